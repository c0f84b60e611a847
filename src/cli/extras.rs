//! `completions` and `manpage`: the command line described for the shell and
//! for `man`, both generated from the same clap definition as the parser, so
//! they never list an option the parser does not know.

use std::io::Write;

use clap::{Args, CommandFactory, ValueEnum};
use clap_complete::Shell;

use crate::error::{Error, Result};

use super::Cli;

/// Options of `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in
    #[arg(value_enum)]
    pub shell: CompletionShell,
}

/// The shells `completions` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    /// bash
    Bash,
    /// zsh
    Zsh,
    /// fish
    Fish,
}

impl CompletionShell {
    /// The generator of clap_complete for this shell.
    fn generator(self) -> Shell {
        match self {
            Self::Bash => Shell::Bash,
            Self::Zsh => Shell::Zsh,
            Self::Fish => Shell::Fish,
        }
    }
}

/// The long help of `completions`: where each script goes.
pub const COMPLETIONS_HELP: &str = "\
Install, for example:
  bash: crmo-sim completions bash > ~/.local/share/bash-completion/completions/crmo-sim
  zsh:  crmo-sim completions zsh > ~/.zfunc/_crmo-sim   (with fpath+=(~/.zfunc) before compinit)
  fish: crmo-sim completions fish > ~/.config/fish/completions/crmo-sim.fish";

/// `crmo-sim completions SHELL`: the completion script on standard output.
pub fn completions(args: &CompletionsArgs) -> Result<()> {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell.generator(), &mut cmd, "crmo-sim", &mut script);
    print_bytes(&script)
}

/// `crmo-sim manpage`: the manual page (roff) on standard output, covering
/// every command.
pub fn manpage() -> Result<()> {
    let cmd = Cli::command();
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut page)
        .map_err(|e| Error::output(std::path::Path::new("<standard output>"), e))?;
    // `Man::render` describes the top level only (the commands by name and
    // summary); each command's options follow in a section of their own.
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        page.extend_from_slice(command_section(sub).as_bytes());
    }
    print_bytes(&page)
}

/// A roff section `COMMAND NAME`: the command's long description, its usage
/// and each of its options with its help.
fn command_section(sub: &clap::Command) -> String {
    let mut text = format!(".SH \"COMMAND {}\"\n", roff_escape(sub.get_name()));
    if let Some(about) = sub.get_long_about().or(sub.get_about()) {
        text += &format!("{}\n", roff_escape(&about.to_string()));
    }
    let mut usage_cmd = sub.clone().bin_name(format!("crmo-sim {}", sub.get_name()));
    let usage = usage_cmd.render_usage().to_string();
    let usage = usage.trim_start_matches("Usage:").trim();
    text += &format!(".PP\n\\fB{}\\fR\n", roff_escape(usage));
    for arg in sub.get_arguments().filter(|a| !a.is_hide_set()) {
        text += &format!(".TP\n{}\n", roff_escape(&arg_label(arg)));
        if let Some(help) = arg.get_long_help().or(arg.get_help()) {
            text += &format!("{}\n", roff_escape(&help.to_string()));
        }
    }
    text
}

/// How an option is written: `-q, --quiet`, `--out <OUT>` or `<SCENARIO>`.
fn arg_label(arg: &clap::Arg) -> String {
    let value = arg
        .get_value_names()
        .and_then(|names| names.first())
        .map(|n| format!("<{n}>"))
        .unwrap_or_else(|| format!("<{}>", arg.get_id().as_str().to_uppercase()));
    let takes_value = arg.get_num_args().is_some_and(|n| n.takes_values())
        || matches!(
            arg.get_action(),
            clap::ArgAction::Set | clap::ArgAction::Append
        );
    let mut names = Vec::new();
    if let Some(s) = arg.get_short() {
        names.push(format!("-{s}"));
    }
    if let Some(l) = arg.get_long() {
        names.push(format!("--{l}"));
    }
    match (names.is_empty(), takes_value) {
        (true, _) => value,
        (false, true) => format!("{} {value}", names.join(", ")),
        (false, false) => names.join(", "),
    }
}

/// Text made safe for roff: backslashes doubled, and a line that would start
/// with `.` or `'` (a roff request) protected by a zero-width character.
fn roff_escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .lines()
        .map(|line| {
            if line.starts_with(['.', '\'']) {
                format!("\\&{line}")
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Writes to standard output; a closed pipe (e.g. `| head`) is a normal end.
fn print_bytes(bytes: &[u8]) -> Result<()> {
    let _ = std::io::stdout().lock().write_all(bytes);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roff_escape_protects_requests_and_backslashes() {
        assert_eq!(roff_escape("a\\b"), "a\\\\b");
        assert_eq!(roff_escape("x\n.TH y\n'z"), "x\n\\&.TH y\n\\&'z");
    }
}
