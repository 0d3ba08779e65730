/* The phone head's phone set; see phones.h. */
#define _POSIX_C_SOURCE 200809L /* strcasecmp */
#include "model/phones.h"

#include "common.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *const vcm_phone_names[VCM_PHONES] = {
    "AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY", "F",
    "G",  "HH", "IH", "IY", "JH", "K",  "L", "M",  "N", "NG", "OW", "OY", "P",  "R",
    "S",  "SH", "T",  "TH", "UH", "UW", "V", "W",  "Y", "Z",  "ZH", "SIL"};

int vc_phone_is_silence(const char *name) {
    static const char *const names[] = {"sil", "sp",   "spn", "pau", "h#", "<sil>",
                                        "<s>", "</s>", "nsn", "_",   "#",  NULL};
    if (name[0] == '+' || name[0] == '[') return 1;
    for (int i = 0; names[i]; i++)
        if (!strcasecmp(name, names[i])) return 1;
    return 0;
}

void vc_phone_strip_stress(char *name) {
    size_t n = strlen(name);
    if (n > 1 && name[n - 1] >= '0' && name[n - 1] <= '2' && isalpha((unsigned char)name[n - 2]))
        name[n - 1] = '\0';
}

int vcm_phone_class(const char *name) {
    if (vc_phone_is_silence(name)) return VCM_PHONE_SIL;
    char base[VC_PHONE_NAME_MAX];
    snprintf(base, sizeof base, "%s", name);
    vc_phone_strip_stress(base);
    for (int i = 0; i < VCM_PHONE_SIL; i++)
        if (!strcasecmp(base, vcm_phone_names[i])) return i;
    return -1;
}
