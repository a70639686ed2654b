// The modules (main program, shared libraries) loaded in this process, with their GNU build-ids:
// how a job process finds the caller's code (detail::locate_code is the other direction).
#pragma once

#include <burla/detail/job_types.hpp>
#include <string>
#include <vector>

namespace burla::core {

/// Build-id of the main program, as hex; throws if it was linked without one.
std::string main_build_id();
/// The address in this process of code that detail::locate_code found in the caller; throws
/// build_mismatch when no loaded module has that build-id.
const void* resolve_code(const detail::module_address& where);

/// Remembers the bytes of the main program's own global variables (named in its symbol table:
/// in its writable data, not the standard library's, Boost's, burla's or GoogleTest's). Called by
/// burla::init; a stripped program has nothing to remember.
void remember_globals();
/// Those of them whose bytes changed since remember_globals, by name: a job's processes start
/// the program afresh and see their initial values.
std::vector<std::string> globals_changed_since_init();

}  // namespace burla::core
