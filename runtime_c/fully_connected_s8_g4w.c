/* tk_fully_connected_s8_g4w: FULLY_CONNECTED int8 with 13 to 16 inputs per output,
 * int16 weights (widened by the compiler; fully_connected_s8_small_impl.h). */
#include "fully_connected_s8_small.h"
#include "fully_connected_s8_small_impl.h"

void tk_fully_connected_s8_g4w(const tk_fc_small_params *p, const int8_t *input,
                               const int16_t *weights, int8_t *output) {
    tk_fcs_kernel(p, input, (const int8_t *)(const void *)weights, output, 4, 1);
}
