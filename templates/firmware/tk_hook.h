/* tinykiln firmware: force-included into every source (-include tk_hook.h) so the generated model
 * calls the profiling marker at each layer boundary. */
#ifndef TK_HOOK_H
#define TK_HOOK_H
void tk_layer_mark(int op_index);
#define TK_LAYER_HOOK(op_index) tk_layer_mark(op_index)
#endif
