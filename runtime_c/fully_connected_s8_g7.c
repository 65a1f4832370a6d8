/* tk_fully_connected_s8_g7: FULLY_CONNECTED int8 with 25 to 28 inputs per output, int8 weights
 * (fully_connected_s8_small_impl.h). */
#include "fully_connected_s8_small.h"
#include "fully_connected_s8_small_impl.h"

void tk_fully_connected_s8_g7(const tk_fc_small_params *p, const int8_t *input,
                              const int8_t *weights, int8_t *output) {
    tk_fcs_kernel(p, input, weights, output, 7, 0);
}
