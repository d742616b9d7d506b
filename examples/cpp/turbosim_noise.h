// Turbo-Sim's keyed noise (turbosim_hep/simulation/noise.py): the same standard normals as Python, bit for bit up to the last
// bit of float32 log/sin/cos.
#include <cmath>
#include <cstdint>
#include <initializer_list>

inline uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// One key per event: seed and stream from the ONNX metadata (turbosim.seed, turbosim.noise_stream).
inline uint64_t event_key(uint64_t seed, uint64_t stream, uint64_t run, uint64_t lumi, uint64_t event,
                          uint64_t sample = 0) {
  uint64_t h = 0;
  for (uint64_t k : {seed, stream, run, lumi, event, sample}) h = splitmix64(h ^ k);
  return h;
}

// dim standard normals (turbosim.noise_dim) for one event, by Box-Muller on the two halves of one hash per pair.
inline void event_noise(uint64_t key, int dim, float* out) {
  for (int p = 0; 2 * p < dim; ++p) {
    uint64_t h = splitmix64(key ^ (uint64_t(p) * 0x9E3779B97F4A7C15ULL));
    float u1 = float((double(h >> 32) + 1.0) * 2.3283064365386963e-10);
    float u2 = float(double(h & 0xFFFFFFFFULL) * 2.3283064365386963e-10);
    float r = std::sqrt(-2.0f * std::log(u1));
    float a = 6.283185307179586f * u2;
    out[2 * p] = r * std::cos(a);
    if (2 * p + 1 < dim) out[2 * p + 1] = r * std::sin(a);
  }
}

// The key of an event's draw a (0, 1, ..., turbosim.draws - 1) for a decoder truncated to the phase space: its noise
// input is the draws' noise side by side, turbosim.noise_dim / turbosim.draws numbers each (redraw_keys in Python).
inline uint64_t redraw_key(uint64_t key, uint64_t a) {
  return a == 0 ? key : splitmix64(key ^ (a * 0xD1B54A32D192ED03ULL));
}
