/*
 * sample_rng.h - the deterministic randomness of the sample programs (gen_samples,
 * rescan): splitmix64, so that a seed gives the same pages on every machine and run.
 * Header-only because each C file under samples/ is built as a program of its own.
 */
#ifndef PHIEU_SAMPLE_RNG_H
#define PHIEU_SAMPLE_RNG_H

#include <math.h>
#include <stdint.h>

typedef struct rng {
    uint64_t s;
} rng;

static inline uint64_t rng_u64(rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1), from the top 53 bits. */
static inline double rng_unit(rng *r)
{
    return (double)(rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

static inline double rng_range(rng *r, double a, double b)
{
    return a + (b - a) * rng_unit(r);
}

static inline int rng_int(rng *r, int n)
{
    return (int)(rng_unit(r) * n);
}

static inline int rng_chance(rng *r, double p)
{
    return rng_unit(r) < p;
}

/* A standard normal deviate (Box-Muller). */
static inline double rng_gauss(rng *r)
{
    double u = rng_unit(r), v = rng_unit(r);
    if (u < 1e-300)
        u = 1e-300;
    return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

#endif
