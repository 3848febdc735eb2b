import ArgumentParser
import EdgeAuth
import Glibc

/// `edge hash-password`: a bcrypt hash for a `basic_auth` account, as `caddy hash-password` prints.
struct HashPassword: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "hash-password",
    abstract: "Print a bcrypt hash of a password for basic_auth (reads it from the terminal or stdin).")
  @Option(name: .shortAndLong, help: "The password (visible in the process list and shell history; prefer stdin).")
  var plaintext: String?
  @Option(help: "bcrypt cost: 2^cost rounds; each check takes about 1 s at 14.") var cost = 14

  func validate() throws {
    guard (4...31).contains(cost) else { throw ValidationError("--cost must be 4–31") }
  }

  func run() throws {
    let password: String
    if let plaintext {
      password = plaintext
    } else if isatty(0) != 0 {
      guard let first = readSecret("Enter password: "), let second = readSecret("Confirm password: ") else {
        throw ExitCode(1)
      }
      guard first == second else {
        printError("edge: the passwords differ")
        throw ExitCode(1)
      }
      password = first
    } else {
      password = readLine(strippingNewline: true) ?? ""
    }
    guard !password.isEmpty else {
      printError("edge: empty password")
      throw ExitCode(1)
    }
    guard let hash = PasswordHash.bcrypt(password, cost: cost) else {
      printError("edge: could not hash the password")
      throw ExitCode(1)
    }
    print(hash)
  }

  /// A line from the terminal with echo off.
  private func readSecret(_ prompt: String) -> String? {
    var saved = termios()
    tcgetattr(0, &saved)
    var quiet = saved
    quiet.c_lflag &= ~tcflag_t(ECHO)
    tcsetattr(0, TCSAFLUSH, &quiet)
    defer {
      tcsetattr(0, TCSAFLUSH, &saved)
      printError("")
    }
    printError(prompt.trimmingCharacters(in: .newlines))
    return readLine(strippingNewline: true)
  }
}
