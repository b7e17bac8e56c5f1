//! Parsers for the command-line values clap cannot read on its own: `KEY=VALUE` pairs,
//! `TYPE=N` process counts, `TYPE[.NUM]` restart targets and `vN` release versions.

/// Which processes `ps restart` targets: a type, or one numbered process of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessTarget {
    pub(crate) kind: String,
    pub(crate) num: Option<u32>,
}

/// `KEY=VALUE`; the value may itself contain `=`.
pub fn parse_key_value(arg: &str) -> Result<(String, String), String> {
    match arg.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("expected KEY=VALUE, got {arg:?}")),
    }
}

/// `TYPE=N`, e.g. `web=2`.
pub fn parse_scale(arg: &str) -> Result<(String, u32), String> {
    let (kind, count) =
        parse_key_value(arg).map_err(|_| format!("expected TYPE=N, got {arg:?}"))?;
    let count = count
        .parse()
        .map_err(|_| format!("{count:?} is not a process count (in {arg:?})"))?;
    Ok((kind, count))
}

/// `TYPE` or `TYPE.NUM`, e.g. `web` or `web.2`.
pub fn parse_process_target(arg: &str) -> Result<ProcessTarget, String> {
    let (kind, num) = match arg.split_once('.') {
        None => (arg, None),
        Some((kind, num)) => {
            let num = num
                .parse()
                .map_err(|_| format!("{num:?} is not a process number (in {arg:?})"))?;
            (kind, Some(num))
        }
    };
    if kind.is_empty() {
        return Err(format!("expected TYPE or TYPE.NUM, got {arg:?}"));
    }
    Ok(ProcessTarget {
        kind: kind.to_owned(),
        num,
    })
}

/// `vN` or `N`.
pub fn parse_version(arg: &str) -> Result<u64, String> {
    arg.strip_prefix('v')
        .unwrap_or(arg)
        .parse()
        .map_err(|_| format!("expected a release like v3 or 3, got {arg:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_value_splits_at_the_first_equals() {
        assert_eq!(parse_key_value("A=b=c"), Ok(("A".into(), "b=c".into())));
        assert_eq!(
            parse_key_value("EMPTY="),
            Ok(("EMPTY".into(), String::new()))
        );
        assert!(parse_key_value("=x").is_err());
        assert!(parse_key_value("novalue").is_err());
    }

    #[test]
    fn scale_needs_a_count() {
        assert_eq!(parse_scale("web=2"), Ok(("web".into(), 2)));
        assert_eq!(parse_scale("worker=0"), Ok(("worker".into(), 0)));
        assert!(parse_scale("web=-1").is_err());
        assert!(parse_scale("web=two").is_err());
        assert!(parse_scale("web").is_err());
    }

    #[test]
    fn process_target_is_type_or_type_dot_num() {
        assert_eq!(
            parse_process_target("web"),
            Ok(ProcessTarget {
                kind: "web".into(),
                num: None
            })
        );
        assert_eq!(
            parse_process_target("web.2"),
            Ok(ProcessTarget {
                kind: "web".into(),
                num: Some(2)
            })
        );
        assert!(parse_process_target("web.x").is_err());
        assert!(parse_process_target(".1").is_err());
        assert!(parse_process_target("").is_err());
    }

    #[test]
    fn version_takes_an_optional_v() {
        assert_eq!(parse_version("v3"), Ok(3));
        assert_eq!(parse_version("12"), Ok(12));
        assert!(parse_version("vx").is_err());
        assert!(parse_version("").is_err());
    }
}
