// Forced include for the Aquawar AI SDK build (written for this project, not upstream code).
//
// The SDK has two sources of chance, both outside the game rules:
// - `std::random_device rd; std::default_random_engine eng(rd());`, one fresh device per draw (the 30 % normal-attack
//   chance of AIClient::auto_valid_action, which baseline1 uses on every move);
// - `std::default_random_engine eng{time(0)}` to shuffle the lists of living fish (get_enemy_living_fishes,
//   get_my_living_fishes, ...), i.e. seeded by the wall-clock second.
// With AQUAWAR_SEED set, the device returns the next value of one per-process std::mt19937 seeded with it, and time()
// returns a virtual clock that starts at a second derived from the seed and moves on by one second per call (as if
// every call fell in a new second, which is what a game paced by a model sees). The game replays move for move.
// Without AQUAWAR_SEED both behave as upstream (the real device, the real clock).
#pragma once
#include <cstdlib>
#include <ctime>
#include <random>
#include <string>

namespace aquawar_entropy {
inline const char* seed_text() {
    static const char* seed = std::getenv("AQUAWAR_SEED");
    return (seed != nullptr && *seed != '\0') ? seed : nullptr;
}
inline unsigned long seed_value() { return std::strtoul(seed_text(), nullptr, 10); }
inline std::time_t clock_read(std::time_t* out) {
    if (seed_text() == nullptr) return ::time(out);
    static std::time_t now = static_cast<std::time_t>(1600000000UL + (seed_value() % 100000000UL) * 7UL);
    std::time_t value = now++;
    if (out != nullptr) *out = value;
    return value;
}
}  // namespace aquawar_entropy

namespace std {
class aquawar_seeded_device {
   public:
    using result_type = unsigned int;
    aquawar_seeded_device() = default;
    explicit aquawar_seeded_device(const string&) {}
    aquawar_seeded_device(const aquawar_seeded_device&) = delete;
    aquawar_seeded_device& operator=(const aquawar_seeded_device&) = delete;
    static constexpr result_type min() { return 0; }
    static constexpr result_type max() { return 0xffffffffu; }
    double entropy() const noexcept { return 0.0; }
    result_type operator()() {
        if (aquawar_entropy::seed_text() == nullptr) {
            static random_device real;
            return real();
        }
        static mt19937 gen(static_cast<mt19937::result_type>(aquawar_entropy::seed_value()));
        return static_cast<result_type>(gen());
    }
};
}  // namespace std

#define random_device aquawar_seeded_device
#define time(out) aquawar_entropy::clock_read(out)
