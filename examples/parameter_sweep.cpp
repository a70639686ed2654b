// A parameter sweep: integrate a damped oscillator for every (damping, frequency) pair and keep
// the energy left at the end. Inputs and results are structs that Boost.Serialization handles.
#include <algorithm>
#include <burla/burla.hpp>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

struct params {
  double damping = 0;
  double frequency = 0;
  int steps = 0;

  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& damping& frequency& steps;
  }
};

struct outcome {
  double final_energy = 0;
  std::string label;

  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& final_energy& label;
  }
};

outcome simulate(const params& p) {
  double x = 1.0, v = 0.0;
  const double dt = 1e-3, w2 = p.frequency * p.frequency;
  for (int i = 0; i < p.steps; ++i) {  // semi-implicit Euler
    v += (-w2 * x - 2.0 * p.damping * v) * dt;
    x += v * dt;
  }
  char label[64];
  std::snprintf(label, sizeof label, "damping=%.2f frequency=%.1f", p.damping, p.frequency);
  return {0.5 * (v * v + w2 * x * x), label};
}

int main(int argc, char** argv) {
  burla::init(argc, argv);
  std::vector<params> grid;
  for (double damping : {0.0, 0.05, 0.1, 0.2, 0.5})
    for (double frequency : {1.0, 2.0, 4.0, 8.0}) grid.push_back({damping, frequency, 20'000});

  const std::vector<outcome> results = burla::remote_parallel_map(simulate, grid, {.spinner = false});

  for (const outcome& r : results) std::printf("%-32s energy %.6f\n", r.label.c_str(), r.final_energy);
  // Sanity: no damping keeps the energy (w^2 / 2), more damping always leaves less.
  bool ok = std::abs(results[0].final_energy - 0.5) < 0.01;
  for (std::size_t i = 4; i < results.size(); ++i)
    ok &= results[i].final_energy < results[i - 4].final_energy;
  return ok ? 0 : 1;
}
