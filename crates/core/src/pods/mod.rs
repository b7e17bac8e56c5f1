//! Tapis pods: a pod is an app of kind `pod` running one instance while
//! ON. Its Tapis definition is kept whole in the app's `meta`; the parts
//! that shape the container become the build and config of a release when
//! the pod (re)starts, as in Tapis, where updates apply on the next start.
//!
//! This module holds the definition, its checks, credentials and secrets;
//! `service` the use cases on [`crate::service::Berth`].

use std::collections::BTreeMap;

use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{CoreError, CoreResult};
use crate::model::*;

pub use crate::networking;
pub mod images;
pub mod mounts;
pub mod permissions;
mod service;
pub mod snapshots;
mod traffic;
pub mod volumes;

pub use traffic::{
    PodAuthCodes, PodAuthGrant, SESSION_TTL, TrafficDenied, TrafficUser, app_endpoints,
};

pub const POD_PROC_TYPE: &str = "pod";
pub const DEFAULT_TIME_TO_STOP: i64 = 43_200;
const MIN_TIME_TO_STOP: i64 = 300;
/// A hundred years: any later stop time is past what a timestamp holds.
const MAX_TIME_TO_STOP: i64 = 100 * 365 * 24 * 3600;

/// What the user gives for a pod; every field but `pod_id` optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PodDefinition {
    pub pod_id: String,
    pub image: String,
    pub template: String,
    pub description: String,
    pub command: Option<Vec<String>>,
    pub arguments: Option<Vec<String>>,
    pub environment_variables: BTreeMap<String, Value>,
    pub status_requested: String,
    pub volume_mounts: Map<String, Value>,
    pub time_to_stop_default: Option<i64>,
    pub time_to_stop_instance: Option<i64>,
    pub networking: Map<String, Value>,
    pub resources: Map<String, Value>,
    pub compute_queue: String,
    /// Secret values by key, which the environment names as
    /// `${pods:secrets:KEY}`; filled in only in the container.
    pub secret_map: BTreeMap<String, Value>,
    /// Pod fields laid over the template before the pod's own fields.
    pub template_overrides: Map<String, Value>,
}

/// Every field of a pod definition: tapipy's `NewPod` and `UpdatePod`,
/// and `secret_map` and `template_overrides` of later upstream versions.
pub const POD_FIELDS: &[&str] = &[
    "pod_id",
    "image",
    "template",
    "description",
    "command",
    "arguments",
    "environment_variables",
    "status_requested",
    "volume_mounts",
    "time_to_stop_default",
    "time_to_stop_instance",
    "networking",
    "resources",
    "compute_queue",
    "secret_map",
    "template_overrides",
];

/// Fields `template_overrides` may set: those the template gives.
fn overridable(field: &str) -> bool {
    POD_FIELDS.contains(&field) && !["pod_id", "template", "template_overrides"].contains(&field)
}

/// Refuses any field a pod does not have, rather than dropping it.
pub fn check_pod_fields(fields: &Map<String, Value>) -> CoreResult<()> {
    let unknown: Vec<&str> = fields
        .keys()
        .map(String::as_str)
        .filter(|k| !POD_FIELDS.contains(k))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    Err(CoreError::invalid(format!(
        "unknown pod field{}: {}",
        if unknown.len() == 1 { "" } else { "s" },
        unknown.join(", ")
    )))
}

/// A secret key: letters, digits, `_`, `-` and `.`, 1 to 128 of them.
fn validate_secret_key(key: &str) -> CoreResult<()> {
    let ok = (1..=128).contains(&key.len())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !ok {
        return Err(CoreError::invalid_field(
            "secret_map",
            format!("{key}: a key is 1 to 128 letters, digits, '_', '-' or '.'"),
        ));
    }
    Ok(())
}

/// Pod ids: `[a-z][a-z0-9]+`, 3 to 64 characters.
pub fn validate_pod_id(id: &str) -> CoreResult<()> {
    let ok = (3..=64).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !ok {
        return Err(CoreError::invalid_field(
            "pod_id",
            "must be 3 to 64 lowercase letters and digits, starting with a letter",
        ));
    }
    Ok(())
}

fn validate_time_to_stop(field: &str, value: Option<i64>) -> CoreResult<()> {
    match value {
        None | Some(-1) => Ok(()),
        Some(v) if (MIN_TIME_TO_STOP..=MAX_TIME_TO_STOP).contains(&v) => Ok(()),
        Some(_) => Err(CoreError::invalid_field(
            field,
            format!("must be -1 (no limit) or {MIN_TIME_TO_STOP} to {MAX_TIME_TO_STOP} seconds"),
        )),
    }
}

/// The keys of `resources`, as the Pods service's model has them.
const RESOURCES: [&str; 5] = [
    "cpu_request",
    "cpu_limit",
    "mem_request",
    "mem_limit",
    "gpus",
];

fn resource(resources: &Map<String, Value>, key: &str) -> CoreResult<Option<i64>> {
    match resources.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_i64().filter(|n| *n >= 0).map(Some).ok_or_else(|| {
            CoreError::invalid_field("resources", format!("{key} must be a non-negative integer"))
        }),
    }
}

impl PodDefinition {
    /// A definition from a request body: an object of pod fields only.
    pub fn from_fields(fields: &Map<String, Value>) -> CoreResult<Self> {
        check_pod_fields(fields)?;
        serde_json::from_value(Value::Object(fields.clone()))
            .map_err(|e| CoreError::invalid(format!("invalid pod definition: {e}")))
    }

    pub fn validate(&self) -> CoreResult<()> {
        validate_pod_id(&self.pod_id)?;
        validate_time_to_stop("time_to_stop_default", self.time_to_stop_default)?;
        validate_time_to_stop("time_to_stop_instance", self.time_to_stop_instance)?;
        if !["", "ON", "OFF"].contains(&self.status_requested.as_str()) {
            return Err(CoreError::invalid_field(
                "status_requested",
                "must be ON or OFF",
            ));
        }
        mounts::parse_mounts(&self.volume_mounts)?;
        for (key, value) in &self.resources {
            if !RESOURCES.contains(&key.as_str()) {
                return Err(CoreError::invalid_field(
                    "resources",
                    format!("{key} is not a resource (one of {})", RESOURCES.join(", ")),
                ));
            }
            if value.as_i64().is_none_or(|n| n < 0) {
                return Err(CoreError::invalid_field(
                    "resources",
                    format!("{key} must be a non-negative integer"),
                ));
            }
        }
        for (request, limit) in [("cpu_request", "cpu_limit"), ("mem_request", "mem_limit")] {
            if let (Some(r), Some(l)) = (
                resource(&self.resources, request)?,
                resource(&self.resources, limit)?,
            ) && r > l
            {
                return Err(CoreError::invalid_field(
                    "resources",
                    format!("{request} must not exceed {limit}"),
                ));
            }
        }
        networking::validate_networking(&self.networking)?;
        for (k, v) in &self.secret_map {
            validate_secret_key(k)?;
            if !v.is_string() {
                return Err(CoreError::invalid_field(
                    "secret_map",
                    format!("{k} must be a string"),
                ));
            }
        }
        if let Some(field) = self.template_overrides.keys().find(|k| !overridable(k)) {
            return Err(CoreError::invalid_field(
                "template_overrides",
                format!("{field} is not a field a template gives"),
            ));
        }
        for (k, v) in &self.environment_variables {
            crate::rules::validate_env_name(k)?;
            if !(v.is_string() || v.is_number() || v.is_boolean()) {
                return Err(CoreError::invalid_field(
                    "environment_variables",
                    format!("{k} must be a string"),
                ));
            }
        }
        Ok(())
    }

    /// Seconds until an instance started now is turned off, if ever.
    /// When a pod started at `now` is to stop: never without a limit (or
    /// past what a timestamp holds).
    pub fn stop_at(&self, now: time::OffsetDateTime) -> Option<time::OffsetDateTime> {
        self.time_to_stop()
            .and_then(|s| now.checked_add(time::Duration::seconds(s)))
    }

    pub fn time_to_stop(&self) -> Option<i64> {
        match self
            .time_to_stop_instance
            .or(self.time_to_stop_default)
            .unwrap_or(DEFAULT_TIME_TO_STOP)
        {
            -1 => None,
            s => Some(s),
        }
    }

    /// The container config this definition asks for.
    fn config(&self, credentials: &Credentials) -> CoreResult<ConfigValues> {
        let mut config = ConfigValues {
            policy: RunPolicy {
                restart: RestartPolicy::Never,
                ..RunPolicy::default()
            },
            ..ConfigValues::default()
        };
        let (environment, _) = self.resolved_environment(Some(credentials));
        for (k, v) in &environment {
            config.values.insert(
                k.clone(),
                crate::rules::value_text("environment_variables", k, v)?,
            );
        }
        config
            .values
            .insert("user_username".into(), credentials.user_username.clone());
        config
            .values
            .insert("user_password".into(), credentials.user_password.clone());
        if let Some(mem) = resource(&self.resources, "mem_limit")? {
            config
                .memory
                .insert(POD_PROC_TYPE.into(), format!("{}M", mem.max(6)));
        }
        if let Some(cpu) = resource(&self.resources, "cpu_limit")? {
            config.policy.cpu_limit_millis = Some(cpu.clamp(10, 1_000_000) as u32);
        }
        if let Some(cpu) = resource(&self.resources, "cpu_request")? {
            // The request weighs the pod against others: 1000 millicpu = 1024 shares.
            config.cpu.insert(
                POD_PROC_TYPE.into(),
                ((cpu * 1024 / 1000).clamp(2, 262_144)) as u32,
            );
        }
        Ok(config)
    }
}

/// Generated per pod and injected as `user_username` / `user_password`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    pub user_username: String,
    pub user_password: String,
}

impl Credentials {
    fn generate(pod_id: &str) -> Self {
        let secret: [u8; 16] = rand::rng().random();
        Credentials {
            user_username: pod_id.to_string(),
            user_password: hex::encode(secret),
        }
    }
}

/// The prefix of a `${...}` pattern naming a key of the pod's `secret_map`.
pub const SECRET_PATTERN_PREFIX: &str = "pods:secrets:";

impl PodDefinition {
    /// What `${name}` in an environment value stands for: the pod's
    /// credentials, and each key of its secret map as `pods:secrets:KEY`.
    fn secrets(&self, credentials: Option<&Credentials>) -> BTreeMap<String, String> {
        let mut secrets: BTreeMap<String, String> = self
            .secret_map
            .iter()
            .filter_map(|(k, v)| {
                let value = v.as_str()?;
                Some((format!("{SECRET_PATTERN_PREFIX}{k}"), value.to_string()))
            })
            .collect();
        if let Some(c) = credentials {
            secrets.insert("user_username".into(), c.user_username.clone());
            secrets.insert("user_password".into(), c.user_password.clone());
        }
        secrets
    }
}

/// Replaces each `${name}` whose name is a known secret; returns the text
/// and the patterns left unresolved (in order, each once).
pub fn interpolate_secrets(
    text: &str,
    secrets: &BTreeMap<String, String>,
) -> (String, Vec<String>) {
    let mut out = String::with_capacity(text.len());
    let mut unresolved: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let name = &after[..end];
        let pattern = &rest[start..start + 2 + end + 1];
        match secrets.get(name.trim()) {
            Some(value) => out.push_str(value),
            None => {
                out.push_str(pattern);
                if !unresolved.iter().any(|u| u == pattern) {
                    unresolved.push(pattern.to_string());
                }
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    (out, unresolved)
}

impl PodDefinition {
    /// The environment with every known secret filled in (what the
    /// container gets), and the `${...}` patterns no secret matches.
    pub fn resolved_environment(
        &self,
        credentials: Option<&Credentials>,
    ) -> (BTreeMap<String, Value>, Vec<String>) {
        let secrets = self.secrets(credentials);
        let mut unresolved: Vec<String> = Vec::new();
        let env = self
            .environment_variables
            .iter()
            .map(|(k, v)| {
                let value = match v.as_str() {
                    Some(text) => {
                        let (text, left) = interpolate_secrets(text, &secrets);
                        for pattern in left {
                            if !unresolved.contains(&pattern) {
                                unresolved.push(pattern);
                            }
                        }
                        Value::String(text)
                    }
                    None => v.clone(),
                };
                (k.clone(), value)
            })
            .collect();
        (env, unresolved)
    }
}

/// What Berth keeps in a pod app's `meta`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PodMeta {
    /// The definition as the user gave it.
    pub definition: PodDefinition,
    /// After the template merge: what runs.
    pub derived: PodDefinition,
    pub credentials: Option<Credentials>,
    pub start_instance_ts: Option<String>,
}

/// Fields of `template` the user left out, taken from the template's
/// definition: the user's own fields always win.
pub fn merge_template(template: &Value, user: &Value) -> Value {
    let mut merged = template.as_object().cloned().unwrap_or_default();
    for (k, v) in user.as_object().into_iter().flatten() {
        let empty =
            v.is_null() || v.as_str() == Some("") || v.as_object().is_some_and(Map::is_empty);
        if empty {
            continue;
        }
        // Maps (environment, networking, resources) merge key by key.
        let value = match merged.get(k) {
            Some(t) if t.is_object() && v.is_object() => merge_template(t, v),
            _ => v.clone(),
        };
        merged.insert(k.clone(), value);
    }
    Value::Object(merged)
}

/// The definition that runs: `definition` merged over `template`, checked.
fn derive(definition: &PodDefinition, template: Option<&Value>) -> CoreResult<PodDefinition> {
    let user_json = serde_json::to_value(definition).map_err(CoreError::internal_from)?;
    let overrides = Value::Object(definition.template_overrides.clone());
    let derived_json = match template {
        Some(t) => merge_template(&merge_template(t, &overrides), &user_json),
        None => merge_template(&overrides, &user_json),
    };
    let mut derived: PodDefinition = serde_json::from_value(derived_json).map_err(|e| {
        CoreError::invalid_field(
            "template",
            format!("template definition is not usable: {e}"),
        )
    })?;
    derived.pod_id = definition.pod_id.clone();
    // Applied: what runs has none left to apply.
    derived.template_overrides = Map::new();
    derived.validate()?;
    if derived.image.trim().is_empty() {
        return Err(CoreError::invalid_field(
            "image",
            "a pod needs an image (or a template that gives one)",
        ));
    }
    Ok(derived)
}

fn meta_value(meta: &PodMeta) -> CoreResult<Value> {
    serde_json::to_value(meta).map_err(CoreError::internal_from)
}

pub fn pod_meta(app: &App) -> PodMeta {
    serde_json::from_value(app.meta.clone()).unwrap_or_default()
}

/// What a config value shows in place of a secret its reader may not see.
pub const HIDDEN_SECRET: &str = "********";

/// The config keys of `values` that carry a pod's secrets, each with the
/// level that may read it, as the Tapis routes serving them: the
/// credentials as `/credentials` (USER), a value with a secret filled in
/// as `derived?resolve_secrets` (ADMIN). Other apps have none.
pub fn secret_config_keys(app: &App, values: &BTreeMap<String, String>) -> BTreeMap<String, Level> {
    if app.kind != AppKind::Pod {
        return BTreeMap::new();
    }
    let meta = pod_meta(app);
    let mut keys = BTreeMap::from([
        ("user_username".to_string(), Level::User),
        ("user_password".to_string(), Level::User),
    ]);
    // The stored config follows the definition of the last start, so both
    // definitions count, and so does any value holding a secret itself.
    for definition in [&meta.definition, &meta.derived] {
        let secrets = definition.secrets(meta.credentials.as_ref());
        for (k, v) in &definition.environment_variables {
            let fills_secret = v
                .as_str()
                .is_some_and(|text| interpolate_secrets(text, &secrets).0 != text);
            if fills_secret && values.contains_key(k) {
                keys.insert(k.clone(), Level::Admin);
            }
        }
    }
    let password = meta.credentials.as_ref().map(|c| c.user_password.as_str());
    let secret_values: Vec<&str> = password
        .into_iter()
        .chain(
            [&meta.definition, &meta.derived]
                .into_iter()
                .flat_map(|d| d.secret_map.values().filter_map(Value::as_str)),
        )
        .filter(|v| !v.is_empty())
        .collect();
    for (k, v) in values {
        if k != "user_password" && secret_values.iter().any(|secret| v.contains(secret)) {
            keys.insert(k.clone(), Level::Admin);
        }
    }
    keys
}

/// A definition as its readers see it: each `secret_map` value (also one
/// in `template_overrides`) as [`HIDDEN_SECRET`].
pub fn hide_secret_map(definition: &mut Value) {
    let hide = |map: Option<&mut Value>| {
        for v in map
            .and_then(Value::as_object_mut)
            .into_iter()
            .flat_map(|m| m.values_mut())
        {
            *v = Value::String(HIDDEN_SECRET.to_string());
        }
    };
    hide(definition.get_mut("secret_map"));
    hide(
        definition
            .get_mut("template_overrides")
            .and_then(|o| o.get_mut("secret_map")),
    );
}

/// Replaces with [`HIDDEN_SECRET`] each of a pod's secret config values
/// that `level` may not read.
pub fn hide_secrets(app: &App, level: Level, values: &mut BTreeMap<String, String>) {
    for (key, need) in secret_config_keys(app, values) {
        if level < need
            && let Some(v) = values.get_mut(&key)
        {
            *v = HIDDEN_SECRET.to_string();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pod_ids() {
        assert!(validate_pod_id("abc1").is_ok());
        for bad in ["ab", "1abc", "a-b", "ABC", &"a".repeat(65)] {
            assert!(validate_pod_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn definitions_are_validated() {
        let mut d = PodDefinition {
            pod_id: "mypod".into(),
            ..Default::default()
        };
        assert!(d.validate().is_ok());
        d.time_to_stop_default = Some(10);
        assert!(d.validate().is_err());
        d.time_to_stop_default = Some(-1);
        assert_eq!(d.time_to_stop(), None);
        d.resources.insert("cpu_request".into(), json!(3000));
        d.resources.insert("cpu_limit".into(), json!(1000));
        assert!(d.validate().is_err());
        d.resources.clear();
        d.volume_mounts.insert("v".into(), json!({"type": "pvc"}));
        assert!(d.validate().is_err());
    }

    #[test]
    fn secrets_fill_in_known_patterns_and_report_the_others() {
        let secrets = BTreeMap::from([("user_password".to_string(), "s3cret".to_string())]);
        let (text, left) = interpolate_secrets(
            "pw=${user_password} home=${HOME} again=${user_password} ${HOME} ${open",
            &secrets,
        );
        assert_eq!(text, "pw=s3cret home=${HOME} again=s3cret ${HOME} ${open");
        assert_eq!(left, ["${HOME}"]);
        assert_eq!(
            interpolate_secrets("plain", &secrets),
            ("plain".into(), vec![])
        );
    }

    #[test]
    fn a_pod_environment_resolves_its_own_credentials() {
        let definition = PodDefinition {
            environment_variables: BTreeMap::from([
                ("DB_USER".into(), json!("${user_username}")),
                ("DB_PASS".into(), json!("${user_password}")),
                ("OTHER".into(), json!("${not_a_secret}")),
                ("N".into(), json!(3)),
            ]),
            ..PodDefinition::default()
        };
        let credentials = Credentials {
            user_username: "mypod".into(),
            user_password: "pw".into(),
        };
        let (env, left) = definition.resolved_environment(Some(&credentials));
        assert_eq!(env["DB_USER"], json!("mypod"));
        assert_eq!(env["DB_PASS"], json!("pw"));
        assert_eq!(env["N"], json!(3));
        assert_eq!(left, ["${not_a_secret}"]);
        let config = definition.config(&credentials).unwrap();
        assert_eq!(config.values["DB_PASS"], "pw");
        assert_eq!(config.values["OTHER"], "${not_a_secret}");
        let (raw, _) = definition.resolved_environment(None);
        assert_eq!(raw["DB_PASS"], json!("${user_password}"));
    }

    #[test]
    fn secret_map_keys_fill_the_environment_and_unknown_fields_are_refused() {
        let definition = PodDefinition {
            environment_variables: BTreeMap::from([
                ("DB".into(), json!("postgres://u:${pods:secrets:DB}@db")),
                ("GONE".into(), json!("${pods:secrets:GONE}")),
            ]),
            secret_map: BTreeMap::from([("DB".into(), json!("pw"))]),
            ..PodDefinition::default()
        };
        let (env, left) = definition.resolved_environment(None);
        assert_eq!(env["DB"], json!("postgres://u:pw@db"));
        assert_eq!(left, ["${pods:secrets:GONE}"]);
        let body = json!({"pod_id": "p", "secret_map": {}, "extra": 1, "also": 2});
        let err = PodDefinition::from_fields(body.as_object().unwrap()).unwrap_err();
        assert_eq!(err.to_string(), "unknown pod fields: also, extra");
        let mut shown =
            json!({"secret_map": {"DB": "pw"}, "template_overrides": {"secret_map": {"X": "y"}}});
        hide_secret_map(&mut shown);
        assert_eq!(
            shown,
            json!({"secret_map": {"DB": HIDDEN_SECRET}, "template_overrides": {"secret_map": {"X": HIDDEN_SECRET}}})
        );
    }

    #[test]
    fn user_fields_win_over_the_template() {
        let merged = merge_template(
            &json!({"image": "busybox:latest", "description": "from template", "command": ["sleep", "1"]}),
            &json!({"description": "mine", "image": "", "command": null}),
        );
        let env = merge_template(
            &json!({"environment_variables": {"T": "t", "FOO": "template"}}),
            &json!({"environment_variables": {"FOO": "pod"}}),
        );
        assert_eq!(
            env["environment_variables"],
            json!({"T": "t", "FOO": "pod"})
        );
        assert_eq!(merged["image"], "busybox:latest");
        assert_eq!(merged["description"], "mine");
        assert_eq!(merged["command"], json!(["sleep", "1"]));
    }
}
