// Dropout masks from a counter of random streams, part of kernels_body.h (compiled once per
// instruction set): the same masks on every path.

/// Generators side by side: element `i` of a block of `2·DROPOUT_STREAMS` takes its draw from
/// stream `i % DROPOUT_STREAMS`, the high half of the stream's output for the first half of
/// the block, the low half for the second.
#define DROPOUT_STREAMS 8

static inline uint64_t dropout_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t dropout_splitmix(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/// `mask_i = scale` when element `i`'s 24-bit uniform draw is below `keep` (else 0) and
/// `out_i = in_i · mask_i`. The draws come from `DROPOUT_STREAMS` xoshiro256** generators
/// seeded from `seed` by SplitMix64 and stepped together, so that the loop runs in vector
/// registers: Swift's loop, one generator step and one compare an element, was 12% of a
/// 2x128 LSTM's training step at dropout 0.25.
static void k_dropout(long n, float keep, float scale, uint64_t seed, const float *in, float *mask, float *out) {
    uint64_t s0[DROPOUT_STREAMS], s1[DROPOUT_STREAMS], s2[DROPOUT_STREAMS], s3[DROPOUT_STREAMS];
    uint64_t mix = seed;
    for (int j = 0; j < DROPOUT_STREAMS; j++) {
        s0[j] = dropout_splitmix(&mix);
        s1[j] = dropout_splitmix(&mix);
        s2[j] = dropout_splitmix(&mix);
        s3[j] = dropout_splitmix(&mix);
    }
    // A draw k / 2^24 is below keep exactly when k is below keep · 2^24 rounded up.
    const uint32_t below = (uint32_t)ceil((double)keep * 16777216.0);
    for (long i = 0; i < n; i += 2 * DROPOUT_STREAMS) {
        uint32_t draws[2 * DROPOUT_STREAMS];
        for (int j = 0; j < DROPOUT_STREAMS; j++) {
            uint64_t result = dropout_rotl(s1[j] * 5, 7) * 9;
            uint64_t t = s1[j] << 17;
            s2[j] ^= s0[j];
            s3[j] ^= s1[j];
            s1[j] ^= s2[j];
            s0[j] ^= s3[j];
            s2[j] ^= t;
            s3[j] = dropout_rotl(s3[j], 45);
            draws[j] = (uint32_t)(result >> 40);
            draws[j + DROPOUT_STREAMS] = (uint32_t)(result >> 8) & 0xffffff;
        }
        long count = n - i < 2 * DROPOUT_STREAMS ? n - i : 2 * DROPOUT_STREAMS;
        for (long j = 0; j < count; j++) {
            float m = draws[j] < below ? scale : 0.0f;
            mask[i + j] = m;
            out[i + j] = in[i + j] * m;
        }
    }
}
