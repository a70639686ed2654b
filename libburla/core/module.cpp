#include "module.hpp"

#include <cxxabi.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>

#include <burla/detail/job_types.hpp>
#include <burla/error.hpp>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>
#include <string_view>
#include <vector>

#include "checksum.hpp"
#include "posix.hpp"

namespace burla::core {
namespace {

struct module_info {
  std::string path;
  std::uintptr_t base = 0;
  std::string build_id;
  std::vector<std::pair<std::uintptr_t, std::uintptr_t>> segments;  // loaded address ranges
};

std::string build_id_of(const dl_phdr_info* info) {
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const auto& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    const char* p = reinterpret_cast<const char*>(info->dlpi_addr + ph.p_vaddr);
    const char* end = p + ph.p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      ElfW(Nhdr) note;
      std::memcpy(&note, p, sizeof note);
      const char* name = p + sizeof note;
      const char* desc = name + ((note.n_namesz + 3) & ~3u);
      if (note.n_type == NT_GNU_BUILD_ID && note.n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0 &&
          desc + note.n_descsz <= end) {
        static const char hex[] = "0123456789abcdef";
        std::string out;
        for (std::uint32_t k = 0; k < note.n_descsz; ++k) {
          const auto byte = static_cast<unsigned char>(desc[k]);
          out += hex[byte >> 4];
          out += hex[byte & 15];
        }
        return out;
      }
      p = desc + ((note.n_descsz + 3) & ~3u);
    }
  }
  return {};
}

std::vector<module_info> loaded_modules() {
  std::vector<module_info> out;
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* data) -> int {
        auto& mods = *static_cast<std::vector<module_info>*>(data);
        module_info m;
        m.path = info->dlpi_name && *info->dlpi_name ? info->dlpi_name : "";
        m.base = info->dlpi_addr;
        m.build_id = build_id_of(info);
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const auto& ph = info->dlpi_phdr[i];
          if (ph.p_type == PT_LOAD)
            m.segments.emplace_back(info->dlpi_addr + ph.p_vaddr, info->dlpi_addr + ph.p_vaddr + ph.p_memsz);
        }
        mods.push_back(std::move(m));
        return 0;
      },
      &out);
  if (!out.empty() && out.front().path.empty()) out.front().path = posix::self_executable();
  return out;
}

/// A global variable of the main program and a checksum of its bytes.
struct global {
  std::string name;
  const char* address = nullptr;
  std::size_t size = 0;
  std::uint32_t crc = 0;
};

/// The program's own: not the runtime's, the libraries' (copied in by copy relocations, or
/// linked statically) nor the compiler's (guards, function-local statics, names with a dot).
bool is_users(const std::string& mangled, const std::string& name) {
  for (std::string_view p : {"_ZGV", "_ZZ", "_ZT"})  // guards, function-local statics, vtables
    if (mangled.starts_with(p)) return false;
  if (mangled.starts_with("_") && !mangled.starts_with("_Z")) return false;  // __dso_handle, _edata
  for (std::string_view p : {"std::", "boost::", "burla::", "testing::", "__gnu_cxx::", "__cxxabiv1::"})
    if (name.starts_with(p)) return false;
  return name.find('.') == std::string::npos;  // completed.0 and other compiler-made names
}

#if defined(__x86_64__)
constexpr unsigned copy_relocation = R_X86_64_COPY;
#elif defined(__aarch64__)
constexpr unsigned copy_relocation = R_AARCH64_COPY;
#else
constexpr unsigned copy_relocation = ~0u;  // unknown: library objects are filtered by name alone
#endif

/// The main program's globals from its ELF symbol table: objects in writable, allocated sections.
std::vector<global> main_program_globals() {
  const auto mods = loaded_modules();
  if (mods.empty()) return {};
  const std::string path = posix::self_executable();
  const posix::fd f = posix::open_file(path, O_RDONLY);
  auto read = [&](std::uint64_t offset, std::size_t size) {
    std::string bytes(size, '\0');
    posix::pread_all(f.get(), bytes.data(), size, offset, path);
    return bytes;
  };
  ElfW(Ehdr) eh;
  std::memcpy(&eh, read(0, sizeof eh).data(), sizeof eh);
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_shentsize != sizeof(ElfW(Shdr))) return {};
  std::vector<ElfW(Shdr)> sections(eh.e_shnum);
  std::memcpy(sections.data(), read(eh.e_shoff, eh.e_shnum * sizeof(ElfW(Shdr))).data(),
              eh.e_shnum * sizeof(ElfW(Shdr)));
  auto symbols_of = [&](std::uint32_t type) {
    std::vector<std::pair<std::string, ElfW(Sym)>> out;
    for (const auto& sh : sections) {
      if (sh.sh_type != type || sh.sh_link >= sections.size() || sh.sh_entsize != sizeof(ElfW(Sym))) continue;
      const std::string table = read(sh.sh_offset, sh.sh_size);
      const std::string names = read(sections[sh.sh_link].sh_offset, sections[sh.sh_link].sh_size);
      for (std::size_t at = 0; at + sizeof(ElfW(Sym)) <= table.size(); at += sizeof(ElfW(Sym))) {
        ElfW(Sym) sym;
        std::memcpy(&sym, table.data() + at, sizeof sym);
        if (ELF64_ST_TYPE(sym.st_info) != STT_OBJECT || sym.st_size == 0 || sym.st_shndx == SHN_UNDEF ||
            sym.st_shndx >= sections.size() || sym.st_name >= names.size())
          continue;
        const auto flags = sections[sym.st_shndx].sh_flags;
        if ((flags & SHF_WRITE) && (flags & SHF_ALLOC)) out.emplace_back(names.c_str() + sym.st_name, sym);
      }
    }
    return out;
  };
  // Library objects the program refers to (stdout, environ, std::cout) are copied into its .bss
  // by R_*_COPY relocations; they are not the program's own.
  std::set<std::string> copied;
  for (const auto& sh : sections) {
    if (sh.sh_type != SHT_RELA || sh.sh_entsize != sizeof(ElfW(Rela)) || sh.sh_link >= sections.size())
      continue;
    const auto& dynsym = sections[sh.sh_link];
    if (dynsym.sh_link >= sections.size()) continue;
    const std::string relocs = read(sh.sh_offset, sh.sh_size);
    const std::string table = read(dynsym.sh_offset, dynsym.sh_size);
    const std::string names = read(sections[dynsym.sh_link].sh_offset, sections[dynsym.sh_link].sh_size);
    for (std::size_t at = 0; at + sizeof(ElfW(Rela)) <= relocs.size(); at += sizeof(ElfW(Rela))) {
      ElfW(Rela) r;
      std::memcpy(&r, relocs.data() + at, sizeof r);
      if (ELF64_R_TYPE(r.r_info) != copy_relocation) continue;
      const std::size_t k = ELF64_R_SYM(r.r_info) * sizeof(ElfW(Sym));
      if (k + sizeof(ElfW(Sym)) > table.size()) continue;
      ElfW(Sym) sym;
      std::memcpy(&sym, table.data() + k, sizeof sym);
      if (sym.st_name < names.size()) copied.insert(names.c_str() + sym.st_name);
    }
  }
  std::vector<global> out;
  for (const auto& [mangled, sym] : symbols_of(SHT_SYMTAB)) {
    if (copied.count(mangled)) continue;
    // The libraries' names, before demangling thousands of them: std, boost, burla, testing.
    bool library = false;
    for (std::string_view p :
         {"_ZSt", "_ZNSt", "_ZNKSt", "_ZN5boost", "_ZN5burla", "_ZN7testing", "_ZN9__gnu_cxx"})
      library = library || mangled.starts_with(p);
    if (library) continue;
    const std::string name = detail::demangle(mangled.c_str());
    if (!is_users(mangled, name)) continue;
    out.push_back({name, reinterpret_cast<const char*>(mods.front().base + sym.st_value), sym.st_size, 0});
  }
  return out;
}

std::vector<global>& remembered_globals() {
  static std::vector<global> g;
  return g;
}

}  // namespace

void remember_globals() {
  try {
    auto globals = main_program_globals();
    for (auto& g : globals) g.crc = crc32c({g.address, g.size});
    remembered_globals() = std::move(globals);
  } catch (const error&) {  // an unreadable program file: nothing to compare against later
    remembered_globals().clear();
  }
}

std::vector<std::string> globals_changed_since_init() {
  std::vector<std::string> out;
  for (const auto& g : remembered_globals())
    if (crc32c({g.address, g.size}) != g.crc) out.push_back(g.name);
  return out;
}

std::string main_build_id() {
  auto mods = loaded_modules();
  if (mods.empty() || mods.front().build_id.empty())
    throw error(
        "burla: this program has no GNU build-id, so a job cannot check that it runs the "
        "same build; link it with -Wl,--build-id (the CMake target burla::burla adds it)");
  return mods.front().build_id;
}

const void* resolve_code(const detail::module_address& where) {
  for (const auto& m : loaded_modules())
    if (m.build_id == where.build_id) return reinterpret_cast<const void*>(m.base + where.offset);
  throw build_mismatch("burla: this job process has not loaded " + where.module + " with build-id " +
                       where.build_id +
                       " (the caller's build). Either it was rebuilt or replaced after the job was "
                       "submitted (submit the job again), or the caller opens it with dlopen, which the "
                       "job never does: it stops in burla::init, before your program would load it "
                       "(link the library instead).");
}

}  // namespace burla::core

namespace burla::detail {

module_address locate_code(const void* address) {
  const auto a = reinterpret_cast<std::uintptr_t>(address);
  for (const auto& m : core::loaded_modules()) {
    for (const auto& [lo, hi] : m.segments) {
      if (a < lo || a >= hi) continue;
      if (m.build_id.empty())
        throw error("burla: the function passed to burla lives in " + m.path +
                    ", which has no GNU build-id; link it with -Wl,--build-id");
      return {m.build_id, m.path, a - m.base};
    }
  }
  throw error("burla: cannot find which loaded module holds the function passed to burla");
}

std::string demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> out(abi::__cxa_demangle(mangled, nullptr, nullptr, &status),
                                                  &std::free);
  return readable_type_name(status == 0 && out ? std::string(out.get()) : std::string(mangled));
}

std::string readable_type_name(std::string name) {
  static constexpr std::string_view long_name =
      "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >";
  for (auto at = name.find(long_name); at != std::string::npos; at = name.find(long_name, at)) {
    // "<...allocator<char> > >" becomes "<std::string>", not "<std::string >"
    const bool closes = name.compare(at + long_name.size(), 2, " >") == 0;
    name.replace(at, long_name.size() + (closes ? 1 : 0), "std::string");
  }
  return name;
}

}  // namespace burla::detail
