// Package config reads karbor.conf and provider files the way oslo.config
// does, so that a file written for the Python karbor-protection means the same
// thing here.
//
// What "the same" covers, each point checked against oslo.config 9.0 (the
// release the Python service ran on) and frozen in testdata/oslo-*.json:
//
//   - the file syntax of oslo.config's own INI parser (ParseFile): sections,
//     "key = value" or "key: value" split at the first '=' or ':', indented
//     continuation lines, one pair of surrounding quotes stripped, '#' and ';'
//     comments only at the start of a line, repeated keys all kept;
//   - sources in command-line order: each --config-file, each --config-dir
//     (its *.conf files, sorted by name); a later source overrides an earlier
//     one key by key, multi-valued options collect every value in order; with
//     no --config-file (or --config-dir) oslo.config's default search applies;
//   - section names other than DEFAULT compared case-insensitively, option
//     names exactly; deprecated option names; OS_<GROUP>__<OPTION>
//     environment overrides; command-line values above everything;
//   - value types (Bool, Int, Float, List, String with choices, HostAddress,
//     Port) converted exactly as oslo.config's types do, "$name" / "${name}"
//     substitution from the same group then DEFAULT, "$$" and "\$" escapes.
//
// The file syntax is parsed here rather than with gopkg.in/ini.v1, because no
// combination of ini.v1's LoadOptions reads files the way oslo.config does:
// ini.v1 strips backquotes and triple quotes around values (oslo.config keeps
// them), keeps the indentation of continuation lines (oslo.config strips it)
// and treats indented lines as new keys or comments (oslo.config continues
// the previous value or fails), accepts a section line with trailing text and
// keys before any section (both errors in oslo.config), and drops repeated
// identical values of a key unless AllowDuplicateShadowValues is set.
//
// A Registry declares options (type, default, help) by group, as oslo.config's
// register_opts does; Config answers for registered options (Value) and, for
// the plugins that read their own sections, offers a plain view (Get, GetAll
// and typed getters). KarborRegistry and NewKarbor give the typed view of the
// main configuration; ProviderRegistry and NewProvider that of a provider
// file's [provider] section.
package config
