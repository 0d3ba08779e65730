/* Model parameters in a safetensors file, driven by the parameter table (nn/params.h).
 *
 * A file written by vci_params_save holds every tensor of the table under its table name with
 * its table shape (F32, or F16 on request), in table order, plus __metadata__ with
 * "vconv.format_version" = VC_FORMAT_VERSION and the caller's pairs (see safetensors.h for the
 * reserved keys). Any safetensors reader (Python's safetensors, numpy) can open it.
 *
 * Loading is strict. Statuses:
 *   VC_ERR_IO       the file cannot be opened or read
 *   VC_ERR_FORMAT   not a valid safetensors file (every check in safetensors.h), or a
 *                   non-finite value in a tensor (the log names the tensor and element)
 *   VC_ERR_VERSION  "vconv.format_version" missing or not VC_FORMAT_VERSION; the log carries a
 *                   HINT line saying what to do. Checked before the tensors: another version
 *                   may well have other tensors.
 *   VC_ERR_SHAPE    a valid file that does not fit the table: a table tensor missing from the
 *                   file, a file tensor the table does not know, or a different shape
 * On any failure p->data is unchanged: values are read into a temporary slab first.
 */
#ifndef VC_IO_PARAMS_FILE_H
#define VC_IO_PARAMS_FILE_H

#include "io/safetensors.h"
#include "nn/params.h"

/* Bump on any change of tensor names, shapes or meaning (STYLE convention 8). */
#define VC_FORMAT_VERSION "1"
#define VC_META_FORMAT_VERSION "vconv.format_version"

/* Write every tensor of p (built from its table) with meta_kv = key0, value0, ... (n_meta
 * pairs, may be NULL when 0) as F32, or F16 when f16 != 0. The format version is added here;
 * passing it in meta_kv is VC_ERR_ARG. Values must be finite (and within +-65504 for F16):
 * VC_ERR_ARG otherwise. Temp file + rename: path never holds a partial file. */
VC_WARN_UNUSED vc_status vci_params_save(const char *path, const vc_params *p,
                                         const char *const *meta_kv, int n_meta, int f16);

/* Fill p (already built from the table with vcn_params_init) from a parsed file (loaders read
 * its metadata first); what names the file in log lines. */
VC_WARN_UNUSED vc_status vci_params_read(const st_file *f, const char *what, vc_params *p);

#endif
