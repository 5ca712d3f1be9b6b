/* Ops whose positions are read at run time, portable C99: EMBEDDING_LOOKUP (table rows by id;
 * an int8 table with a float32 output dequantized by the table's scale) and DYNAMIC_UPDATE_SLICE
 * (the operand copied, then the update written at start indices clamped into the operand). */
#include <string.h>

#include "ec_kernels.h"

int ec_embedding_lookup(const ec_lookup_params *p, const int32_t *ids, const void *table, void *output) {
  for (int32_t i = 0; i < p->count; ++i) {
    const int32_t id = ids[i];
    if (id < 0 || id >= p->rows) return -1;
    if (p->dequantize) {
      const int8_t *row = (const int8_t *)table + (size_t)id * (size_t)p->row_elems;
      float *out = (float *)output + (size_t)i * (size_t)p->row_elems;
      for (int32_t k = 0; k < p->row_elems; ++k) out[k] = p->scale * (float)row[k];
    } else {
      const size_t bytes = (size_t)p->row_elems * (size_t)p->elem_size;
      memcpy((char *)output + (size_t)i * bytes, (const char *)table + (size_t)id * bytes, bytes);
    }
  }
  return 0;
}

void ec_dynamic_update_slice(const ec_dus_params *p, const void *operand, const void *update,
                             const void *starts, void *output) {
  if (output != operand) memcpy(output, operand, (size_t)p->operand_bytes);
  if (p->update_empty) return;
  int64_t offset = 0;
  for (int32_t d = 0; d < p->rank; ++d) {
    int64_t s = p->index_bytes == 8 ? ((const int64_t *)starts)[d] : ((const int32_t *)starts)[d];
    const int64_t hi = p->operand_dims[d] - p->update_dims[d];
    s = s < 0 ? 0 : (s > hi ? hi : s);
    offset += s * p->operand_strides[d];
  }
  ec_copy_nd(&p->copy, update, (char *)output + offset * p->copy.elem_size);
}
