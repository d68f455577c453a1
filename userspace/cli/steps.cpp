#include "steps.hpp"

namespace devexcl::cli {

namespace {

void need(const std::vector<std::string>& words, std::size_t min, std::size_t max,
          const char* usage_line) {
    if (words.size() - 1 < min || words.size() - 1 > max) {
        throw UsageError(std::string("usage: ") + usage_line);
    }
}

Step parse_one(const std::vector<std::string>& w) {
    Step s;
    const std::string& cmd = w[0];
    if (cmd == "mark" || cmd == "status" || cmd == "release") {
        std::vector<std::string> words = w;
        if (cmd == "mark" && words.back() == "--allow-kernel-bugs") {
            s.mark_mode = MarkMode::AllowKernelBugs;
            words.pop_back();
        }
        need(words, 3, 3,
             (cmd == "mark" ? "mark PID ADDR LEN [--allow-kernel-bugs]" : cmd + " PID ADDR LEN")
                 .c_str());
        s.kind = cmd == "mark"     ? StepKind::Mark
                 : cmd == "status" ? StepKind::Status
                                   : StepKind::Release;
        s.pid = parse_pid(words[1]);
        s.addr = parse_number(words[2], "address");
        s.length = parse_size(words[3], "length");
    } else if (cmd == "atomic") {
        // atomic PID ADDR OP [VALUE [EXPECTED]] [--no-reacquire]
        std::vector<std::string> words = w;
        if (words.back() == "--no-reacquire") {
            s.reacquire = false;
            words.pop_back();
        }
        need(words, 3, 5, "atomic PID ADDR OP [VALUE [EXPECTED]] [--no-reacquire]");
        s.kind = StepKind::Atomic;
        s.pid = parse_pid(words[1]);
        s.addr = parse_number(words[2], "address");
        if (!parse_access_op(words[3], s.op)) {
            throw UsageError("unknown atomic op '" + words[3] +
                             "' (read, write, add, xchg, cmpxchg)");
        }
        const std::size_t operands = words.size() - 4;
        const std::size_t wanted = s.op == AccessOp::Read ? 0 : s.op == AccessOp::Cmpxchg ? 2 : 1;
        if (operands != wanted) {
            throw UsageError("atomic " + words[3] + " takes " + std::to_string(wanted) +
                             " operand(s)");
        }
        if (wanted >= 1) {
            s.value = parse_number(words[4], "value");
        }
        if (wanted == 2) {
            // cmpxchg EXPECTED NEW reads naturally: compare first.
            s.expected = s.value;
            s.value = parse_number(words[5], "value");
        }
    } else if (cmd == "hold") {
        need(w, 0, 1, "hold [SECONDS]");
        s.kind = StepKind::Hold;
        if (w.size() == 2) {
            s.seconds = parse_seconds(w[1]);
        }
    } else if (cmd == "counters" || cmd == "revocations") {
        need(w, 0, 0, cmd.c_str());
        s.kind = cmd == "counters" ? StepKind::Counters : StepKind::Revocations;
    } else {
        throw UsageError("unknown step '" + cmd + "'");
    }
    return s;
}

}  // namespace

bool is_step_command(const std::string& command) {
    return command == "mark" || command == "status" || command == "release" ||
           command == "atomic" || command == "hold" || command == "counters" ||
           command == "revocations";
}

std::vector<Step> parse_steps(const std::string& command, const std::vector<std::string>& args) {
    std::vector<Step> steps;
    std::vector<std::string> words = {command};
    for (std::size_t i = 0; i <= args.size(); ++i) {
        if (i == args.size() || args[i] == "+") {
            if (words.empty()) {
                throw UsageError("empty step around '+'");
            }
            steps.push_back(parse_one(words));
            words.clear();
        } else {
            words.push_back(args[i]);
        }
    }
    pid_t pid = 0;
    for (const Step& s : steps) {
        if (s.pid != 0 && pid != 0 && s.pid != pid) {
            throw UsageError("all steps of a chain act on one process");
        }
        pid = s.pid != 0 ? s.pid : pid;
    }
    return steps;
}

pid_t chain_pid(const std::vector<Step>& steps) {
    for (const Step& s : steps) {
        if (s.pid != 0) {
            return s.pid;
        }
    }
    return 0;
}

}  // namespace devexcl::cli
