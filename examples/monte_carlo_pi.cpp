// Estimate pi by Monte Carlo: each call throws darts with its own seed; the caller adds up hits.
#include <burla/burla.hpp>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <random>
#include <vector>

constexpr std::uint64_t darts_per_call = 1'000'000;

std::uint64_t hits_in_circle(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::uint64_t hits = 0;
  for (std::uint64_t i = 0; i < darts_per_call; ++i) {
    const double x = u(rng), y = u(rng);
    hits += x * x + y * y <= 1.0;
  }
  return hits;
}

int main(int argc, char** argv) {
  burla::init(argc, argv);
  std::vector<std::uint64_t> seeds(64);
  std::iota(seeds.begin(), seeds.end(), 1);
  const std::vector<std::uint64_t> hits = burla::remote_parallel_map(hits_in_circle, seeds);
  const double total = static_cast<double>(std::accumulate(hits.begin(), hits.end(), std::uint64_t{0}));
  const double pi = 4.0 * total / static_cast<double>(darts_per_call * seeds.size());
  std::printf("pi is about %.5f (%zu calls of %llu darts)\n", pi, seeds.size(),
              static_cast<unsigned long long>(darts_per_call));
  return pi > 3.14 && pi < 3.143 ? 0 : 1;
}
