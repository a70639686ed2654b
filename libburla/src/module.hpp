// The modules (main program, shared libraries) loaded in this process, with their GNU build-ids.
#pragma once

#include <string>

namespace burla::detail {

/// Build-id of the main program, as hex; throws if it was linked without one.
std::string main_build_id();

}  // namespace burla::detail
