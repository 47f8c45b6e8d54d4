//! Typed configuration: built-in defaults, then an optional TOML file, then `SUIJI_…` environment variables
//! (`SUIJI_DATABASE__URL` sets `database.url`). A bad value stops start-up with a message naming the key.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

use config::{Config, Environment, File, FileFormat};
use serde::Deserialize;

/// The built-in defaults: the embedded platform under `./data`.
pub const DEFAULTS: &str = include_str!("../data/defaults.toml");

/// The top-level sections of [`Settings`], the only environment variables read as configuration.
const SECTIONS: &[&str] = &[
    "log",
    "telemetry",
    "database",
    "bus",
    "grpc",
    "auth",
    "console",
    "jurisdiction",
    "calendar",
    "clock",
    "reference",
    "directories",
    "services",
    "draw",
    "inspection",
    "publication",
];

/// Every setting of a suiji process.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Logging.
    pub log: LogSettings,
    /// Traces exported by OTLP.
    pub telemetry: TelemetrySettings,
    /// Where each service keeps its data.
    pub database: DatabaseSettings,
    /// The message bus.
    pub bus: BusSettings,
    /// The gRPC listeners.
    pub grpc: GrpcSettings,
    /// Bearer-token identity.
    pub auth: AuthSettings,
    /// The console: its token clients and sign-in with OpenID Connect.
    pub console: ConsoleSettings,
    /// The jurisdiction's rules that differ between provinces and cities.
    pub jurisdiction: JurisdictionSettings,
    /// The working-day calendar.
    pub calendar: CalendarSettings,
    /// The platform's clock.
    pub clock: ClockSettings,
    /// Reference data files.
    pub reference: ReferenceSettings,
    /// The directories service.
    pub directories: DirectoriesSettings,
    /// Where the other services answer, for calls one service makes to another.
    pub services: ServicesSettings,
    /// The draw service.
    pub draw: DrawSettings,
    /// The inspection service.
    pub inspection: InspectionSettings,
    /// The publication service.
    pub publication: PublicationSettings,
}

/// Settings of the publication service.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicationSettings {
    /// Working days after a visit within which its results are published (seed 002 第十七条: 20).
    pub due_working_days: u32,
    /// The result code table; empty: the one shipped with suiji.
    pub result_codes_file: String,
    /// Where the daily export file of published records is written; empty: not written (it is still served by
    /// `ExportPublished`).
    pub export_dir: String,
    /// Attempts before a delivery to an outside system becomes a dead letter.
    pub delivery_attempts: u32,
    /// Outside systems every published result, correction and credit record is sent to.
    #[serde(default)]
    pub connectors: Vec<ConnectorSettings>,
}

/// One outside system (the national enterprise credit publicity system, a credit platform).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorSettings {
    /// Name, e.g. `credit-shaanxi`.
    pub name: String,
    /// Transport: `webhook` (HTTP POST signed with HMAC-SHA256).
    #[serde(default = "webhook")]
    pub kind: String,
    /// Where it is sent, e.g. `http://credit-gateway:8080/suiji`.
    pub url: String,
    /// The shared HMAC key.
    pub secret: Secret,
    /// What it receives: `result.published`, `result.corrected`, `credit.recorded`; empty: everything.
    #[serde(default)]
    pub kinds: Vec<String>,
}

fn webhook() -> String {
    "webhook".into()
}

/// Settings of the inspection service.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InspectionSettings {
    /// Working days a participating department has to answer an invitation.
    pub invitation_working_days: u32,
    /// Where the public reaches the inspection service's verification page (扫码入企), e.g.
    /// `https://suiji.example.gov.cn`; the QR code a team shows carries `<public_url>/verify?code=…`.
    pub public_url: String,
}

/// Addresses of the services one service calls.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServicesSettings {
    /// The catalog service, e.g. `http://catalog:50051` (the console calls it).
    pub catalog: String,
    /// The directories service, e.g. `http://directories:50051`.
    pub directories: String,
    /// The draw service, e.g. `http://draw:50051`.
    pub draw: String,
    /// The inspection service, e.g. `http://inspection:50051` (the console calls it).
    pub inspection: String,
    /// The planning service, e.g. `http://planning:50051` (the console calls it).
    pub planning: String,
    /// The publication service, e.g. `http://publication:50051` (the console calls it).
    pub publication: String,
}

/// Settings of the draw service.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrawSettings {
    /// Inspectors each department sends to each target.
    pub seats_per_department: u32,
    /// Per department, a different number of seats.
    #[serde(default)]
    pub seats: HashMap<String, u32>,
    /// Fewest inspectors on a team (seed 002: at least two).
    pub min_team_size: u32,
}

/// Settings of the directories service.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoriesSettings {
    /// Unpinned snapshots older than this many hours are deleted; a snapshot a draw refers to is pinned and kept.
    pub snapshot_retention_hours: u64,
    /// The departments that keep the directory of targets (the registry of market entities, with its risk levels,
    /// flags and status): only their editors, and administrators, import targets. Every department reads it.
    pub target_sources: Vec<String>,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines, for a terminal.
    Pretty,
    /// One JSON object per line, for log collectors in production.
    Json,
}

/// Logging settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// Line format.
    pub format: LogFormat,
    /// Default filter in `RUST_LOG` syntax; `RUST_LOG` itself wins when set.
    pub filter: String,
}

/// OpenTelemetry settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetrySettings {
    /// OTLP/gRPC endpoint, e.g. `http://otel-collector:4317`; empty disables trace export.
    pub otlp_endpoint: String,
}

/// Database settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite:<directory>` keeps one SQLite file per service in that directory (the embedded default);
    /// `postgres://…` keeps one schema per service in that database, with `search_path` set on every
    /// connection.
    pub url: Secret,
    /// Largest number of pooled connections per service.
    pub max_connections: u32,
    /// Seconds to wait for a pooled connection before failing a request.
    pub acquire_timeout_secs: u64,
}

/// Which bus implementation to use.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum BusKind {
    /// In-process delivery, for `suiji dev` and single-process deployments.
    Embedded,
    /// RabbitMQ over AMQP 0-9-1.
    Amqp,
}

/// Bus settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusSettings {
    /// Embedded or AMQP.
    pub kind: BusKind,
    /// AMQP URL, e.g. `amqp://guest:guest@127.0.0.1:5672/%2f`.
    pub url: Secret,
    /// Prefix of every exchange and queue name (`suiji` gives `suiji.events`, `suiji.catalog`); tests use
    /// their own so they never share state.
    pub namespace: String,
    /// Unacknowledged deliveries per consumer (`basic.qos` prefetch).
    pub prefetch: u16,
    /// Deliveries of one message before it is dead-lettered (`x-delivery-limit`).
    pub delivery_limit: u32,
    /// Outbox rows the relay publishes per round.
    pub relay_batch: u32,
    /// Milliseconds between relay sweeps when nothing wakes it earlier.
    pub relay_poll_ms: u64,
    /// Days an inbox keeps handled message ids; must outlive any redelivery.
    pub inbox_retention_days: u32,
    /// Deliveries an inbox handles in one transaction at most, when that many are waiting (1: each alone).
    pub inbox_batch: u32,
    /// Transactions one consumer's inbox runs at once.
    pub inbox_transactions: u32,
}

/// gRPC listener settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrpcSettings {
    /// Address to bind.
    pub host: String,
    /// Port of `suiji serve <service>`; `suiji dev` gives service n the port `port + n`.
    pub port: u16,
    /// Whether a server answers gRPC reflection (what grpcurl lists): on for development, off in the chart.
    pub reflection: bool,
    /// What one caller may ask of a server.
    pub limits: LimitSettings,
}

/// What one caller may ask of a server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitSettings {
    /// A call (up to its reply's headers; a stream's messages after them are not timed) ends after this long.
    pub request_timeout_secs: u64,
    /// Calls a server takes at once; more wait their turn (within their time limit).
    pub max_concurrent_calls: usize,
    /// Calls a second from one client address without a token (public pages and calls, sign-in).
    pub public_per_second: u32,
    /// How many such calls one address may make at once before the rate applies.
    pub public_burst: u32,
}

/// Identity settings: how tokens are verified, who may sign them, and how this process gets its own.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// Expected `iss` claim.
    pub issuer: String,
    /// Expected `aud` claim.
    pub audience: String,
    /// Where the public keys that verify tokens come from: a JWKS file, an `http(s)://` URL of one (the
    /// console's `/console/.well-known/jwks.json`, or the identity provider's `jwks_uri`), or empty for the
    /// public half of `signing_key` (development).
    pub jwks: String,
    /// Tokens valid for longer than this (`exp - iat`) are refused, whoever signed them.
    pub max_token_lifetime_secs: u64,
    /// The private key (PKCS#8 PEM, ES256 on P-256) of an issuer. Only the console holds one, when it signs
    /// people in with local accounts, and `suiji dev`; with OpenID Connect nobody in suiji does.
    pub signing_key: Secret,
    /// The claim that carries the caller's department code.
    pub department_claim: String,
    /// The claim that carries the caller's roles (an array, or one space-separated string).
    pub roles_claim: String,
    /// The claim that carries the inspector id of a caller who is an inspector in the directories (a team member
    /// confirming the record form); absent for everyone else.
    pub inspector_claim: String,
    /// Whether development shortcuts are allowed: `suiji token`, and a process signing its own service
    /// tokens with `signing_key` when no `token_url` is set.
    pub dev_tokens: bool,
    /// OAuth 2.0 token endpoint where this process gets its own tokens (client credentials) to call the others.
    pub token_url: String,
    /// This process's client id at `token_url`.
    pub client_id: String,
    /// This process's client secret at `token_url`.
    pub client_secret: Secret,
}

/// The console's settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleSettings {
    /// Systems that get tokens from the console by OAuth 2.0 client credentials (the services in a
    /// deployment without single sign-on, other departments' systems).
    pub clients: Vec<ClientSettings>,
    /// Sign-in with OpenID Connect; without an `issuer_url`, local accounts only.
    pub oidc: OidcSettings,
}

/// One client of the console's token endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSettings {
    /// Client id.
    pub id: String,
    /// SHA-256 (hex) of the client secret; the secret itself stays with the client.
    pub secret_sha256: String,
    /// Department its tokens name.
    pub department: String,
    /// Roles its tokens carry.
    pub roles: Vec<String>,
}

/// Sign-in with an identity provider.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcSettings {
    /// The provider's issuer URL (its discovery document is at `/.well-known/openid-configuration`); empty: off.
    pub issuer_url: String,
    /// The console's client id at the provider.
    pub client_id: String,
    /// Its client secret.
    pub client_secret: Secret,
    /// Where the provider sends people back: the console's `/console/oidc/callback` as the browser reaches it.
    pub redirect_url: String,
    /// Scopes asked for besides `openid`.
    pub scopes: Vec<String>,
    /// The resource (RFC 8707) the access token is for, when the provider needs one to issue a JWT.
    pub resource: String,
    /// The button's label.
    pub label: String,
}

/// Rules that vary by jurisdiction.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JurisdictionSettings {
    /// Region code of the jurisdiction (GB/T 2260), e.g. `610000` for Shaanxi.
    pub code: String,
    /// Its name, e.g. 陕西省.
    pub name: String,
    /// Ratio cap of general catalog items, in basis points (200 = 2% in Shaanxi, 500 = 5% in Guangyuan).
    pub general_ratio_cap_basis_points: u32,
}

/// Calendar settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarSettings {
    /// An operator's file of further years, in the format of the shipped `calendar.toml`; empty for none.
    pub extra_file: String,
}

/// Clock settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockSettings {
    /// The moment the process's clock starts at, a date (09:00 that day in China) or an RFC 3339 time; time runs
    /// on from there. Empty: the system clock. For tests and demonstrations only.
    pub start: String,
}

/// Reference data settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceSettings {
    /// Departments seed file (TOML); empty uses the shipped demo departments.
    pub departments_file: String,
}

/// A string that is never printed: `Debug` shows `[redacted]`.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The value, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A configuration that cannot be used; the message names the key.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(pub String);

impl Settings {
    /// Loads defaults, then `file` when given, then the process environment.
    pub fn load(file: Option<&std::path::Path>) -> Result<Self, ConfigError> {
        Self::load_with(file, None, &[])
    }

    /// Loads with an explicit environment (`None` reads the process's) and `key = value` overrides applied
    /// last; tests and `suiji dev` use the overrides.
    pub fn load_with(
        file: Option<&std::path::Path>,
        env: Option<HashMap<String, String>>,
        overrides: &[(&str, String)],
    ) -> Result<Self, ConfigError> {
        let mut builder = Config::builder().add_source(File::from_str(DEFAULTS, FileFormat::Toml));
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError(format!(
                    "config file {} does not exist",
                    path.display()
                )));
            }
            builder = builder.add_source(File::from(PathBuf::from(path)).format(FileFormat::Toml));
        }
        // Only variables naming a settings section (SUIJI_DATABASE__URL) are configuration; client-side ones
        // such as SUIJI_TOKEN or SUIJI_CATALOG_ADDR are not, and must not trip the unknown-key check.
        let env = env.unwrap_or_else(|| std::env::vars().collect());
        let env: HashMap<String, String> = env
            .into_iter()
            .filter(|(key, _)| {
                let section = key
                    .strip_prefix("SUIJI_")
                    .and_then(|rest| rest.split("__").next())
                    .unwrap_or("");
                SECTIONS.contains(&section.to_ascii_lowercase().as_str()) && key.contains("__")
            })
            .collect();
        builder = builder.add_source(
            Environment::with_prefix("SUIJI")
                .prefix_separator("_")
                .separator("__")
                .try_parsing(true)
                // The settings that are lists, given as `A,B` in the environment (as the chart's `settings` do).
                .list_separator(",")
                .with_list_parse_key("directories.target_sources")
                .source(Some(env)),
        );
        for (key, value) in overrides {
            builder = builder
                .set_override(*key, value.clone())
                .map_err(|e| ConfigError(format!("{key}: {e}")))?;
        }
        let settings: Settings = builder
            .build()
            .and_then(|c| c.try_deserialize())
            .map_err(|e| ConfigError(e.to_string()))?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks what types alone cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !self.clock.start.trim().is_empty() {
            crate::clock::parse_start(&self.clock.start).map_err(|e| ConfigError(e.to_string()))?;
        }
        let url = self.database.url.expose();
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(ConfigError(
                "database.url: must start with sqlite: (a directory) or postgres://".into(),
            ));
        }
        if self.bus.kind == BusKind::Amqp && !self.bus.url.expose().starts_with("amqp") {
            return Err(ConfigError(
                "bus.url: must be an amqp:// or amqps:// URL when bus.kind = amqp".into(),
            ));
        }
        if self.bus.namespace.is_empty()
            || !self
                .bus
                .namespace
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(ConfigError(
                "bus.namespace: must be non-empty ASCII letters, digits, '-' or '_'".into(),
            ));
        }
        if self.bus.prefetch == 0 {
            return Err(ConfigError("bus.prefetch: must be at least 1".into()));
        }
        if self.bus.relay_batch == 0 {
            return Err(ConfigError("bus.relay_batch: must be at least 1".into()));
        }
        if self.bus.inbox_batch == 0 {
            return Err(ConfigError("bus.inbox_batch: must be at least 1".into()));
        }
        if self.bus.inbox_transactions == 0 {
            return Err(ConfigError(
                "bus.inbox_transactions: must be at least 1".into(),
            ));
        }
        let cap = self.jurisdiction.general_ratio_cap_basis_points;
        if cap == 0 || cap > 10_000 {
            return Err(ConfigError(format!(
                "jurisdiction.general_ratio_cap_basis_points: {cap} is outside 1..=10000 (basis points of the directory)"
            )));
        }
        if self.auth.max_token_lifetime_secs < 60 {
            return Err(ConfigError(
                "auth.max_token_lifetime_secs: must be at least 60".into(),
            ));
        }
        for (i, client) in self.console.clients.iter().enumerate() {
            if client.secret_sha256.len() != 64 || hex::decode(&client.secret_sha256).is_err() {
                return Err(ConfigError(format!(
                    "console.clients[{i}].secret_sha256: must be 64 hex digits (the SHA-256 of the secret)"
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Option<HashMap<String, String>> {
        Some(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn defaults_are_the_embedded_platform() {
        let s = Settings::load_with(None, env(&[]), &[]).unwrap();
        assert_eq!(s.database.url.expose(), "sqlite:./data");
        assert_eq!(s.bus.kind, BusKind::Embedded);
        assert_eq!(s.jurisdiction.general_ratio_cap_basis_points, 200);
    }

    #[test]
    fn environment_overrides_nested_keys() {
        let s = Settings::load_with(
            None,
            env(&[
                ("SUIJI_BUS__KIND", "amqp"),
                ("SUIJI_JURISDICTION__GENERAL_RATIO_CAP_BASIS_POINTS", "500"),
            ]),
            &[],
        )
        .unwrap();
        assert_eq!(s.bus.kind, BusKind::Amqp);
        assert_eq!(s.jurisdiction.general_ratio_cap_basis_points, 500);
        let s = Settings::load_with(
            None,
            env(&[(
                "SUIJI_DIRECTORIES__TARGET_SOURCES",
                "610000-SCJG,610400-SCJG",
            )]),
            &[],
        )
        .unwrap();
        assert_eq!(
            s.directories.target_sources,
            ["610000-SCJG", "610400-SCJG"],
            "a list setting from the environment"
        );
    }

    #[test]
    fn a_bad_value_names_its_key() {
        let err =
            Settings::load_with(None, env(&[("SUIJI_GRPC__PORT", "seventy")]), &[]).unwrap_err();
        assert!(err.to_string().contains("grpc.port"), "{err}");
        let err = Settings::load_with(
            None,
            env(&[(
                "SUIJI_JURISDICTION__GENERAL_RATIO_CAP_BASIS_POINTS",
                "20000",
            )]),
            &[],
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("jurisdiction.general_ratio_cap_basis_points"),
            "{err}"
        );
        let err = Settings::load_with(None, env(&[("SUIJI_DATABASE__URL", "mysql://x")]), &[])
            .unwrap_err();
        assert!(err.to_string().contains("database.url"), "{err}");
    }

    #[test]
    fn client_variables_are_not_configuration() {
        let s = Settings::load_with(
            None,
            env(&[("SUIJI_TOKEN", "x"), ("SUIJI_CATALOG_ADDR", "http://h")]),
            &[],
        );
        assert!(s.is_ok(), "{s:?}");
    }

    #[test]
    fn an_unknown_key_is_refused() {
        let err = Settings::load_with(None, env(&[("SUIJI_DATABASE__ULR", "sqlite:x")]), &[])
            .unwrap_err();
        assert!(err.to_string().contains("ulr"), "{err}");
    }

    #[test]
    fn secrets_are_not_printed() {
        let s = Settings::load_with(
            None,
            env(&[("SUIJI_AUTH__CLIENT_SECRET", "a-client-secret-to-hide")]),
            &[],
        )
        .unwrap();
        let printed = format!("{s:?}");
        assert!(!printed.contains("a-client-secret-to-hide"));
        assert!(printed.contains("[redacted]"));
    }
}
