/* The phone set of the model's phone head (model.h, cfg.phone_head) and how label names map
 * onto it: one owner for what counts as a phone, a stress mark and silence, read by training's
 * phone loss and by vconv codebook --phones.
 *
 * The set is ARPAbet's 39 phones (the CMU dictionary's, what scripts/phone_labels and the
 * common English aligners write) plus one class for silence and non-speech. A fixed set keeps
 * the head's size independent of which label files a run happens to read; a label outside it
 * (another language's inventory) is left out of the loss, and training says how often. */
#ifndef VC_MODEL_PHONES_H
#define VC_MODEL_PHONES_H

#define VCM_PHONES 40    /* classes of the phone head */
#define VCM_PHONE_SIL 39 /* the silence class */

/* The classes' names, VCM_PHONES of them, silence last ("SIL"). */
extern const char *const vcm_phone_names[VCM_PHONES];

/* The class of a label's name: its ARPAbet phone (any case, stress removed by
 * vc_phone_strip_stress), VCM_PHONE_SIL for silence and non-speech (vc_phone_is_silence),
 * -1 for a name outside the set. */
int vcm_phone_class(const char *name);

#endif
