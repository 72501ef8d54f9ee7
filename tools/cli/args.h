// Command-line flags: each command declares its flags (name, value or switch, default, help);
// anything undeclared or malformed is an Error naming the flag, so the CLI prints one line and
// exits with code 2.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace gradlens::cli {

struct Flag {
  std::string name;         // without dashes: "out"
  std::string value_name;   // "DIR"; empty for a switch
  std::string help;
  std::string fallback;     // default value shown in help; "" = none
};

class Args {
 public:
  Args(std::string command, std::vector<Flag> flags, std::string positional_help);
  // Parses argv after the command word. Throws Error for unknown flags or missing values.
  void parse(const std::vector<std::string>& argv);
  // parse(); then with --help prints the usage and returns false: the command returns 0.
  bool parse_or_usage(const std::vector<std::string>& argv);

  bool has(const std::string& name) const;  // given on the command line
  bool flag(const std::string& name) const { return has(name); }  // for switches
  std::string get(const std::string& name) const;  // given value, else the default
  int64_t get_int(const std::string& name, int64_t min, int64_t max) const;
  double get_double(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }
  std::string usage() const;

 private:
  const Flag& find(const std::string& name) const;
  std::string command_;
  std::vector<Flag> flags_;
  std::string positional_help_;
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
  bool help_ = false;
};

}  // namespace gradlens::cli
