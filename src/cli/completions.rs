//! `slotel completions SHELL`: the shell completion script for bash, zsh or fish, written
//! to stdout by clap_complete from the same command definition the parser uses, so it
//! always names the subcommands and flags this binary has.

use std::io::Write;

use clap::CommandFactory;

/// The shells a completion script is written for.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// `slotel completions` arguments.
#[derive(clap::Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to write the completion script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Writes the completion script for `shell` into `out`.
pub fn write(shell: Shell, out: &mut dyn Write) -> std::io::Result<()> {
    let mut cmd = super::Cli::command();
    let name = cmd.get_name().to_string();
    // Generated into memory first: clap_complete panics when its writer fails (a closed
    // pipe), and a failed write must be an error instead.
    let mut script = Vec::new();
    let generator = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    clap_complete::generate(generator, &mut cmd, name, &mut script);
    out.write_all(&script)?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_gets_a_script_naming_the_subcommands() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let mut out = Vec::new();
            write(shell, &mut out).unwrap();
            let text = String::from_utf8(out).unwrap();
            for sub in [
                "run",
                "check",
                "redact",
                "rules",
                "replay",
                "loadgen",
                "completions",
            ] {
                assert!(text.contains(sub), "{shell:?} script lacks {sub}");
            }
        }
    }
}
