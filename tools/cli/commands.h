// The CLI's commands. Each returns the process exit code; errors are thrown as gradlens::Error.
#pragma once
#include <string>
#include <vector>

namespace gradlens::cli {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const std::vector<std::string>& args);
};

const std::vector<Command>& commands();

int run_methods(const std::vector<std::string>& args);
int run_run(const std::vector<std::string>& args);
int run_info(const std::vector<std::string>& args);
int run_explain(const std::vector<std::string>& args);
int run_bench(const std::vector<std::string>& args);
int run_compare(const std::vector<std::string>& args);
int run_evaluate(const std::vector<std::string>& args);
int run_rules(const std::vector<std::string>& args);
int run_verify(const std::vector<std::string>& args);
int run_axioms(const std::vector<std::string>& args);

}  // namespace gradlens::cli
