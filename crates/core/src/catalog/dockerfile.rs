//! What a Dockerfile asks of the network, read before it is built. The
//! engine fetches `ADD <url>` sources itself, from the host's network, so
//! those must name public hosts. `RUN` steps get the network only when they
//! name a tool that fetches (a package manager, a downloader, git) or a
//! URL; every other build runs its steps with no network at all.

use super::reach;
use crate::error::{CoreError, CoreResult};

/// Commands that fetch over the network: their presence in a `RUN` step
/// gives the build the engine's default network.
const NETWORK_TOOLS: &[&str] = &[
    "add-apt-repository",
    "apk",
    "apt",
    "apt-get",
    "aptitude",
    "bun",
    "bundle",
    "cabal",
    "cargo",
    "composer",
    "conda",
    "cpan",
    "cpanm",
    "curl",
    "dnf",
    "dotnet",
    "gem",
    "git",
    "go",
    "gradle",
    "helm",
    "hg",
    "install2.r",
    "julia",
    "luarocks",
    "mamba",
    "micromamba",
    "microdnf",
    "mvn",
    "nix",
    "npm",
    "npx",
    "opam",
    "pacman",
    "pip",
    "pip3",
    "pipenv",
    "pipx",
    "pnpm",
    "poetry",
    "R",
    "Rscript",
    "rsync",
    "rustup",
    "sbt",
    "scp",
    "ssh",
    "stack",
    "svn",
    "uv",
    "wget",
    "yarn",
    "yum",
    "zypper",
];

/// One instruction: its keyword in upper case and the rest of its text.
#[derive(Debug, PartialEq)]
struct Instruction {
    keyword: String,
    args: String,
}

/// The escape character a `# escape=` parser directive sets (`\` by default).
fn escape_char(text: &str) -> char {
    for line in text.lines() {
        let Some(directive) = line.trim().strip_prefix('#') else {
            break;
        };
        let Some((key, value)) = directive.split_once('=') else {
            break;
        };
        if key.trim().eq_ignore_ascii_case("escape") {
            return value.trim().chars().next().unwrap_or('\\');
        }
    }
    '\\'
}

/// Instructions with their continuation lines joined and comments dropped.
fn instructions(text: &str) -> Vec<Instruction> {
    let escape = escape_char(text);
    let mut found = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (current.is_empty() && trimmed.is_empty()) {
            continue;
        }
        match trimmed.strip_suffix(escape) {
            Some(head) => {
                current.push_str(head);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                let joined = std::mem::take(&mut current);
                let (keyword, args) = joined
                    .split_once(char::is_whitespace)
                    .unwrap_or((joined.as_str(), ""));
                found.push(Instruction {
                    keyword: keyword.to_ascii_uppercase(),
                    args: args.trim().to_string(),
                });
            }
        }
    }
    found
}

/// An `ONBUILD` instruction's own instruction, else the instruction itself.
fn effective(i: &Instruction) -> Instruction {
    if i.keyword == "ONBUILD" {
        let (keyword, args) = i
            .args
            .split_once(char::is_whitespace)
            .unwrap_or((i.args.as_str(), ""));
        Instruction {
            keyword: keyword.to_ascii_uppercase(),
            args: args.trim().to_string(),
        }
    } else {
        Instruction {
            keyword: i.keyword.clone(),
            args: i.args.clone(),
        }
    }
}

/// The sources of an `ADD` (flags and the destination left out).
fn add_sources(args: &str) -> Vec<String> {
    let words: Vec<String> = if args.starts_with('[') {
        serde_json::from_str::<Vec<String>>(args).unwrap_or_default()
    } else {
        args.split_whitespace()
            .filter(|w| !w.starts_with("--"))
            .map(str::to_string)
            .collect()
    };
    match words.split_last() {
        Some((_, sources)) => sources.to_vec(),
        None => Vec::new(),
    }
}

fn fetches(source: &str) -> bool {
    source.contains("://") || source.starts_with("git@")
}

fn run_needs_network(args: &str) -> bool {
    if args.contains("://") {
        return true;
    }
    args.split(|c: char| !(c.is_ascii_alphanumeric() || "._+-/".contains(c)))
        .map(|word| word.rsplit('/').next().unwrap_or(word))
        .any(|word| NETWORK_TOOLS.contains(&word))
}

/// What a build of this Dockerfile may use of the network.
#[derive(Debug, PartialEq, Eq)]
pub struct NetworkNeeds {
    /// Whether a `RUN` step may need the network.
    pub run_steps: bool,
}

/// Checks the Dockerfile's URL sources and says whether its steps need the
/// network. A URL `ADD` must name a public host and cannot hide it behind a
/// variable; `--build-allow-local-sources` concerns git sources only, since
/// the engine fetches these from the host's own network.
pub async fn review(text: &str) -> CoreResult<NetworkNeeds> {
    let refuse = |why: String| CoreError::invalid_field("dockerfile", why);
    let mut run_steps = false;
    for i in instructions(text).iter().map(effective) {
        match i.keyword.as_str() {
            "RUN" => run_steps |= run_needs_network(&i.args),
            "ADD" => {
                for source in add_sources(&i.args).iter().filter(|s| fetches(s)) {
                    if source.contains('$') {
                        return Err(refuse(format!(
                            "ADD {source}: a URL source cannot use variables"
                        )));
                    }
                    let scheme = source
                        .split_once("://")
                        .map(|(s, _)| s.to_ascii_lowercase());
                    let (host, port) = match scheme.as_deref() {
                        Some("http" | "https" | "git") => {
                            reach::url_host(source).ok_or_else(|| {
                                refuse(format!("ADD {source}: the URL names no host"))
                            })?
                        }
                        _ => {
                            return Err(refuse(format!(
                                "ADD {source}: only http, https and git URLs may be added"
                            )));
                        }
                    };
                    let default_port = match scheme.as_deref() {
                        Some("http") => 80,
                        Some("git") => 9418,
                        _ => 443,
                    };
                    reach::public_addresses("dockerfile", &host, port.unwrap_or(default_port))
                        .await
                        .map_err(|e| match e {
                            CoreError::Invalid { message, .. } => {
                                refuse(format!("ADD {source}: {message}"))
                            }
                            other => other,
                        })?;
                }
            }
            _ => {}
        }
    }
    Ok(NetworkNeeds { run_steps })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instructions_join_continuations_and_skip_comments() {
        let text = "# escape=`\nFROM busybox\n# a comment\nRUN echo a `\n  && echo b\n\nadd --chown=1 http://x/y /z\n";
        let found = instructions(text);
        assert_eq!(found.len(), 3);
        assert_eq!(found[1].keyword, "RUN");
        assert_eq!(found[1].args, "echo a  && echo b");
        assert_eq!(add_sources(&found[2].args), vec!["http://x/y".to_string()]);
        assert_eq!(
            add_sources(r#"["https://a/b", "c", "/d"]"#),
            vec!["https://a/b".to_string(), "c".to_string()]
        );
    }

    #[test]
    fn run_steps_need_the_network_only_when_they_fetch() {
        assert!(!run_needs_network("echo building && sleep 4"));
        assert!(!run_needs_network("cat /hello.txt"));
        assert!(run_needs_network("apt-get update && apt-get install -y x"));
        assert!(run_needs_network("/usr/bin/pip install x"));
        assert!(run_needs_network("sh -c 'wget -O- example.com'"));
        assert!(run_needs_network("./fetch http://example.com/x"));
    }

    #[tokio::test]
    async fn url_adds_of_local_addresses_are_refused() {
        for text in [
            "FROM busybox\nADD http://127.0.0.1:18500/healthz /loopback.txt\n",
            "FROM busybox\nADD [\"http://169.254.169.254/latest/\", \"/m\"]\n",
            "FROM busybox\nONBUILD ADD http://localhost/x /x\n",
            "FROM busybox\nADD http://${HOST}/x /x\n",
            "FROM busybox\nADD ftp://example.com/x /x\n",
        ] {
            assert!(review(text).await.is_err(), "{text}");
        }
        assert!(
            review("FROM busybox\nADD https://8.8.8.8/x /x\n")
                .await
                .is_ok()
        );
        let quiet = "FROM busybox\nCOPY a /a\nADD b.tar /b\nRUN echo hi\n";
        assert_eq!(review(quiet).await, Ok(NetworkNeeds { run_steps: false }));
        let pip = "FROM python\nRUN pip install x\n";
        assert_eq!(review(pip).await, Ok(NetworkNeeds { run_steps: true }));
    }
}
