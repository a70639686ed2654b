// The modules (main program, shared libraries) loaded in this process, with their GNU build-ids:
// how a job process finds the caller's code (detail::locate_code is the other direction).
#pragma once

#include <burla/detail/job_types.hpp>
#include <string>

namespace burla::core {

/// Build-id of the main program, as hex; throws if it was linked without one.
std::string main_build_id();
/// The address in this process of code that detail::locate_code found in the caller; throws
/// build_mismatch when no loaded module has that build-id.
const void* resolve_code(const detail::module_address& where);

}  // namespace burla::core
