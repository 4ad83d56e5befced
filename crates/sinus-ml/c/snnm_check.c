/*
 * Runs the model of a header written by `sinus export-model MODEL --format c` on its test
 * vectors with snnm.c and checks the int8 logits and classes against those of the Rust
 * kernels, bit for bit. Exit status 0 when every vector matches, 1 otherwise.
 *
 *   sinus export-model beatnet.int8.snnm --format c --out beatnet.h
 *   cc -std=c99 -O2 -Wall -Wextra -DSINUS_MODEL_HEADER='"beatnet.h"' \
 *      crates/sinus-ml/c/snnm.c crates/sinus-ml/c/snnm_check.c -I. -o snnm_check && ./snnm_check
 */
#include <stdio.h>

#include "snnm.h"

#ifndef SINUS_MODEL_HEADER
#define SINUS_MODEL_HEADER "sinus_model.h"
#endif
#include SINUS_MODEL_HEADER

/* Activations of the largest model this check is built for (static: no allocator needed). */
static int8_t scratch[1 << 16];

int main(void) {
    struct snnm_model m;
    int status = snnm_parse(&m, sinus_model, sinus_model_len);
    size_t bad = 0;
    if (status != SNNM_OK) {
        fprintf(stderr, "snnm_check: %s: %s\n", SINUS_MODEL_HEADER, snnm_status_text(status));
        return 1;
    }
    if (snnm_scratch_len(&m) > sizeof scratch) {
        fprintf(stderr, "snnm_check: the model needs %lu bytes of scratch, %lu built in\n",
                (unsigned long)snnm_scratch_len(&m), (unsigned long)sizeof scratch);
        return 1;
    }
    if (m.input_channels * m.input_len != SINUS_WAVEFORM_LEN ||
        m.n_features != SINUS_FEATURES || m.n_classes != SINUS_CLASSES) {
        fprintf(stderr, "snnm_check: the vectors' sizes differ from the model's\n");
        return 1;
    }
#if SINUS_VECTORS > 0
    {
        size_t v, c;
        for (v = 0; v < SINUS_VECTORS; v++) {
            int8_t logits[SNNM_MAX_CLASSES];
            int same = 1;
            status = snnm_run(&m, sinus_vector_waveforms[v], sinus_vector_features[v], scratch,
                              sizeof scratch, logits);
            if (status != SNNM_OK) {
                fprintf(stderr, "snnm_check: vector %lu: %s\n", (unsigned long)v,
                        snnm_status_text(status));
                return 1;
            }
            for (c = 0; c < SINUS_CLASSES; c++) {
                same &= logits[c] == sinus_vector_logits[v][c];
            }
            same &= snnm_argmax(logits, SINUS_CLASSES) == sinus_vector_classes[v];
            if (!same) {
                if (bad < 10) {
                    fprintf(stderr, "snnm_check: vector %lu (%s): logits", (unsigned long)v,
                            sinus_vector_origin[v]);
                    for (c = 0; c < SINUS_CLASSES; c++) {
                        fprintf(stderr, " %d/%d", logits[c], sinus_vector_logits[v][c]);
                    }
                    fprintf(stderr, " (C/Rust)\n");
                }
                bad++;
            }
        }
    }
#endif
    if (bad > 0) {
        fprintf(stderr, "snnm_check: %lu of %d vectors differ\n", (unsigned long)bad,
                SINUS_VECTORS);
        return 1;
    }
    printf("snnm_check: %d vectors, int8 logits and classes identical to the Rust kernels\n",
           SINUS_VECTORS);
    return 0;
}
