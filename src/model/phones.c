/* The phone head's phone set; see phones.h. */
#define _POSIX_C_SOURCE 200809L /* strcasecmp */
#include "model/phones.h"

#include "common.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *const vcm_phone_names[VCM_PHONES] = {
    "AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY", "F",
    "G",  "HH", "IH", "IY", "JH", "K",  "L", "M",  "N", "NG", "OW", "OY", "P",  "R",
    "S",  "SH", "T",  "TH", "UH", "UW", "V", "W",  "Y", "Z",  "ZH", "SIL"};

int vcm_phone_class(const char *name) {
    if (vc_phone_is_silence(name)) return VCM_PHONE_SIL;
    char base[VC_PHONE_NAME_MAX];
    snprintf(base, sizeof base, "%s", name);
    vc_phone_strip_stress(base);
    for (int i = 0; i < VCM_PHONE_SIL; i++)
        if (!strcasecmp(base, vcm_phone_names[i])) return i;
    return -1;
}
