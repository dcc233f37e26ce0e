//! Settings for `plaster serve`: an optional `plaster.toml`, overridden by
//! environment variables. Every value is validated here, once, into typed
//! settings; a bad one is reported by name and the process exits with 2.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use app::dto::Lang;
use serde::Deserialize;

use crate::store::DatabaseUrl;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("configuration file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("setting {name} (from {origin}): {message}")]
    Invalid {
        name: &'static str,
        origin: String,
        message: String,
    },
}

/// A value that must never reach a log line.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    None,
    StartTls,
    Tls,
}

#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub from: String,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: DatabaseUrl,
    pub listen: SocketAddr,
    /// `Some`: `/metrics` is served on this address only, and the main
    /// listener answers 404 for it (`PLASTER_METRICS_LISTEN`).
    pub metrics_listen: Option<SocketAddr>,
    pub public_url: url::Url,
    pub time_zone: chrono_tz::Tz,
    pub default_lang: Lang,
    /// Where cargo-leptos put the compiled site (wasm, js, css).
    pub site_root: PathBuf,
    /// `None`: mail stays in Plaster's own mailbox.
    pub smtp: Option<SmtpSettings>,
    /// Set by `cargo leptos watch` (LEPTOS_ENV=DEV): pages reload on rebuild.
    pub leptos_dev: bool,
    /// Address ranges outgoing requests (webhooks, payouts) may reach
    /// although they are not public (`PLASTER_OUTGOING_ALLOW`).
    pub outgoing: crate::kernel::outgoing::OutgoingPolicy,
    /// Caps on open live event streams (`PLASTER_LIVE_MAX_STREAMS`,
    /// `PLASTER_LIVE_MAX_STREAMS_PER_CLIENT`).
    pub live_streams: crate::status::live_streams::StreamLimits,
    /// The reverse proxy whose `X-Forwarded-For` names the client
    /// (`PLASTER_TRUSTED_PROXY`); from any other peer the header is ignored.
    pub trusted_proxy: Option<std::net::IpAddr>,
}

/// The file's shape; every field optional, unknown fields refused so typos are caught.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    database_url: Option<String>,
    listen: Option<String>,
    metrics_listen: Option<String>,
    public_url: Option<String>,
    time_zone: Option<String>,
    default_lang: Option<String>,
    site_root: Option<String>,
    smtp: Option<FileSmtp>,
    outgoing_allow: Option<String>,
    live_max_streams: Option<usize>,
    live_max_streams_per_client: Option<usize>,
    trusted_proxy: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSmtp {
    host: Option<String>,
    port: Option<u16>,
    tls: Option<String>,
    username: Option<String>,
    password: Option<String>,
    from: Option<String>,
}

/// One raw value and where it came from, for error messages.
struct Raw {
    value: String,
    origin: String,
}

struct Sources<'a> {
    env: &'a BTreeMap<String, String>,
    file_path: Option<&'a Path>,
}

impl Sources<'_> {
    fn pick(&self, env_name: &str, file_key: &str, file_value: Option<String>) -> Option<Raw> {
        if let Some(v) = self.env.get(env_name).filter(|v| !v.is_empty()) {
            return Some(Raw {
                value: v.clone(),
                origin: format!("environment variable {env_name}"),
            });
        }
        file_value.map(|value| Raw {
            value,
            origin: format!(
                "{} key {file_key}",
                self.file_path
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            ),
        })
    }
}

/// Like [`invalid`], for a value that may hold a secret: it is not echoed.
fn invalid_secret(name: &'static str, raw: &Raw, message: impl fmt::Display) -> ConfigError {
    ConfigError::Invalid {
        name,
        origin: raw.origin.clone(),
        message: format!("{message} (the value is not shown: it may hold a password)"),
    }
}

fn invalid(name: &'static str, raw: &Raw, message: impl fmt::Display) -> ConfigError {
    ConfigError::Invalid {
        name,
        origin: raw.origin.clone(),
        message: format!("{message} (got {:?})", raw.value),
    }
}

impl Settings {
    /// Loads settings from `config_file` (if given, or `plaster.toml` when it
    /// exists in the working directory) and the process environment.
    pub fn load(config_file: Option<&Path>) -> Result<Settings, ConfigError> {
        let env: BTreeMap<String, String> = std::env::vars().collect();
        let default_file = Path::new("plaster.toml");
        let file = match config_file {
            Some(p) => Some(p.to_path_buf()),
            None if default_file.exists() => Some(default_file.to_path_buf()),
            None => None,
        };
        let text = match &file {
            Some(path) => {
                Some(
                    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                        path: path.clone(),
                        source,
                    })?,
                )
            }
            None => None,
        };
        Settings::from_sources(&env, file.as_deref().zip(text.as_deref()))
    }

    /// Pure: builds settings from an environment map and an optional file
    /// (path, contents). Kept separate from [`Settings::load`] so tests need
    /// not touch the process environment.
    pub fn from_sources(
        env: &BTreeMap<String, String>,
        file: Option<(&Path, &str)>,
    ) -> Result<Settings, ConfigError> {
        let parsed: FileSettings = match file {
            Some((path, text)) => toml::from_str(text).map_err(|e| ConfigError::Parse {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?,
            None => FileSettings::default(),
        };
        let src = Sources {
            env,
            file_path: file.map(|(p, _)| p),
        };

        let database_url = match src.pick("DATABASE_URL", "database_url", parsed.database_url) {
            Some(raw) => DatabaseUrl::parse(&raw.value)
                .map_err(|e| invalid_secret("DATABASE_URL", &raw, e))?,
            None => DatabaseUrl::default_sqlite(),
        };

        let listen = match src.pick("PLASTER_LISTEN", "listen", parsed.listen) {
            Some(raw) => raw
                .value
                .parse::<SocketAddr>()
                .map_err(|e| invalid("PLASTER_LISTEN", &raw, e))?,
            None => SocketAddr::from(([127, 0, 0, 1], 3000)),
        };

        let metrics_listen = match src.pick(
            "PLASTER_METRICS_LISTEN",
            "metrics_listen",
            parsed.metrics_listen,
        ) {
            Some(raw) => {
                let addr = raw
                    .value
                    .parse::<SocketAddr>()
                    .map_err(|e| invalid("PLASTER_METRICS_LISTEN", &raw, e))?;
                // Port 0 picks a free port for each, so only a fixed port
                // can collide.
                if addr == listen && addr.port() != 0 {
                    return Err(invalid(
                        "PLASTER_METRICS_LISTEN",
                        &raw,
                        format!("must differ from PLASTER_LISTEN ({listen})"),
                    ));
                }
                Some(addr)
            }
            None => None,
        };

        let public_url = match src.pick("PLASTER_PUBLIC_URL", "public_url", parsed.public_url) {
            Some(raw) => {
                let url = url::Url::parse(&raw.value)
                    .map_err(|e| invalid("PLASTER_PUBLIC_URL", &raw, e))?;
                if !matches!(url.scheme(), "http" | "https") {
                    return Err(invalid(
                        "PLASTER_PUBLIC_URL",
                        &raw,
                        "must be an http or https URL",
                    ));
                }
                url
            }
            None => {
                url::Url::parse(&format!("http://{listen}")).map_err(|e| ConfigError::Invalid {
                    name: "PLASTER_PUBLIC_URL",
                    origin: "default from PLASTER_LISTEN".into(),
                    message: e.to_string(),
                })?
            }
        };

        let time_zone = match src.pick("PLASTER_TIME_ZONE", "time_zone", parsed.time_zone) {
            Some(raw) => raw.value.parse::<chrono_tz::Tz>().map_err(|_| {
                invalid(
                    "PLASTER_TIME_ZONE",
                    &raw,
                    "not an IANA time zone such as Europe/Stockholm",
                )
            })?,
            None => chrono_tz::Europe::Stockholm,
        };

        let default_lang =
            match src.pick("PLASTER_DEFAULT_LANG", "default_lang", parsed.default_lang) {
                Some(raw) => raw
                    .value
                    .parse::<Lang>()
                    .map_err(|e| invalid("PLASTER_DEFAULT_LANG", &raw, e))?,
                None => Lang::Sv,
            };

        // cargo-leptos exports LEPTOS_SITE_ROOT when it runs the server.
        let site_root = src
            .pick("LEPTOS_SITE_ROOT", "site_root", parsed.site_root)
            .map(|raw| PathBuf::from(raw.value))
            .unwrap_or_else(|| PathBuf::from("target/site"));

        let smtp = Self::smtp(&src, parsed.smtp.unwrap_or_default())?;
        let outgoing = match src.pick(
            "PLASTER_OUTGOING_ALLOW",
            "outgoing_allow",
            parsed.outgoing_allow,
        ) {
            Some(raw) => crate::kernel::outgoing::OutgoingPolicy::allowing(
                raw.value
                    .split(',')
                    .filter(|r| !r.trim().is_empty())
                    .map(str::parse)
                    .collect::<Result<Vec<_>, String>>()
                    .map_err(|e| invalid("PLASTER_OUTGOING_ALLOW", &raw, e))?,
            ),
            None => Default::default(),
        };
        let count = |env_name: &'static str, key: &str, file: Option<usize>, default: usize| {
            match src.pick(env_name, key, file.map(|n| n.to_string())) {
                Some(raw) => match raw.value.trim().parse::<usize>() {
                    Ok(n) if n > 0 => Ok(n),
                    _ => Err(invalid(env_name, &raw, "must be a whole number above 0")),
                },
                None => Ok(default),
            }
        };
        let defaults = crate::status::live_streams::StreamLimits::default();
        let live_streams = crate::status::live_streams::StreamLimits {
            total: count(
                "PLASTER_LIVE_MAX_STREAMS",
                "live_max_streams",
                parsed.live_max_streams,
                defaults.total,
            )?,
            per_client: count(
                "PLASTER_LIVE_MAX_STREAMS_PER_CLIENT",
                "live_max_streams_per_client",
                parsed.live_max_streams_per_client,
                defaults.per_client,
            )?,
        };
        let trusted_proxy = match src.pick(
            "PLASTER_TRUSTED_PROXY",
            "trusted_proxy",
            parsed.trusted_proxy,
        ) {
            Some(raw) => Some(raw.value.trim().parse::<std::net::IpAddr>().map_err(|_| {
                invalid(
                    "PLASTER_TRUSTED_PROXY",
                    &raw,
                    "must be the proxy's IP address, like 127.0.0.1 or ::1",
                )
            })?),
            None => None,
        };
        let leptos_dev = env
            .get("LEPTOS_ENV")
            .is_some_and(|v| v.eq_ignore_ascii_case("dev"));

        Ok(Settings {
            database_url,
            listen,
            metrics_listen,
            public_url,
            time_zone,
            default_lang,
            site_root,
            smtp,
            leptos_dev,
            outgoing,
            live_streams,
            trusted_proxy,
        })
    }

    fn smtp(src: &Sources<'_>, file: FileSmtp) -> Result<Option<SmtpSettings>, ConfigError> {
        let Some(host) = src.pick("PLASTER_SMTP_HOST", "smtp.host", file.host) else {
            return Ok(None);
        };
        let tls = match src.pick("PLASTER_SMTP_TLS", "smtp.tls", file.tls) {
            Some(raw) => match raw.value.as_str() {
                "none" => SmtpTls::None,
                "starttls" => SmtpTls::StartTls,
                "tls" => SmtpTls::Tls,
                _ => {
                    return Err(invalid(
                        "PLASTER_SMTP_TLS",
                        &raw,
                        "expected none, starttls or tls",
                    ))
                }
            },
            None => SmtpTls::StartTls,
        };
        let port = match src.pick(
            "PLASTER_SMTP_PORT",
            "smtp.port",
            file.port.map(|p| p.to_string()),
        ) {
            Some(raw) => raw
                .value
                .parse::<u16>()
                .map_err(|e| invalid("PLASTER_SMTP_PORT", &raw, e))?,
            None => match tls {
                SmtpTls::None => 25,
                SmtpTls::StartTls => 587,
                SmtpTls::Tls => 465,
            },
        };
        let from = match src.pick("PLASTER_SMTP_FROM", "smtp.from", file.from) {
            Some(raw) if raw.value.contains('@') => raw.value,
            Some(raw) => {
                return Err(invalid(
                    "PLASTER_SMTP_FROM",
                    &raw,
                    "must be an e-mail address",
                ))
            }
            None => format!("status@{}", host.value),
        };
        let password = src.pick("PLASTER_SMTP_PASSWORD", "smtp.password", file.password);
        // A password over an unencrypted connection is readable on the way,
        // except to a server on this very machine.
        let loopback = host.value == "localhost"
            || host
                .value
                .trim_matches(['[', ']'])
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if let (SmtpTls::None, Some(p)) = (tls, &password) {
            if !loopback {
                return Err(invalid_secret(
                    "PLASTER_SMTP_PASSWORD",
                    p,
                    "would be sent unencrypted: set PLASTER_SMTP_TLS to starttls or tls, \
                     or use an SMTP server on this machine",
                ));
            }
        }
        Ok(Some(SmtpSettings {
            host: host.value,
            port,
            tls,
            username: src
                .pick("PLASTER_SMTP_USERNAME", "smtp.username", file.username)
                .map(|r| r.value),
            password: password.map(|r| Secret::new(r.value)),
            from,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_are_sqlite_on_port_3000_in_stockholm() {
        let s = Settings::from_sources(&env(&[]), None).expect("defaults are valid");
        assert!(s.database_url.is_sqlite());
        assert_eq!(s.listen.port(), 3000);
        assert_eq!(s.time_zone, chrono_tz::Europe::Stockholm);
        assert_eq!(s.default_lang, Lang::Sv);
        assert!(s.smtp.is_none());
    }

    #[test]
    fn environment_overrides_the_file() {
        let file = "listen = \"127.0.0.1:4000\"\ntime_zone = \"Europe/Oslo\"\n";
        let s = Settings::from_sources(
            &env(&[("PLASTER_LISTEN", "127.0.0.1:5000")]),
            Some((Path::new("plaster.toml"), file)),
        )
        .expect("valid");
        assert_eq!(s.listen.port(), 5000);
        assert_eq!(s.time_zone, chrono_tz::Europe::Oslo);
    }

    #[test]
    fn a_bad_setting_is_named_with_its_origin() {
        let err = Settings::from_sources(&env(&[("PLASTER_TIME_ZONE", "Mars/Olympus")]), None)
            .expect_err("invalid zone");
        let msg = err.to_string();
        assert!(msg.contains("PLASTER_TIME_ZONE"), "{msg}");
        assert!(msg.contains("environment variable"), "{msg}");

        let err = Settings::from_sources(
            &env(&[]),
            Some((Path::new("conf/plaster.toml"), "lisen = \"x\"")),
        )
        .expect_err("unknown key");
        assert!(err.to_string().contains("conf/plaster.toml"), "{err}");
        assert!(err.to_string().contains("lisen"), "{err}");

        let err = Settings::from_sources(&env(&[("DATABASE_URL", "mysql://x")]), None)
            .expect_err("unsupported backend");
        assert!(err.to_string().contains("DATABASE_URL"), "{err}");
    }

    #[test]
    fn metrics_may_listen_apart_from_the_pages() {
        let s = Settings::from_sources(&env(&[]), None).expect("defaults are valid");
        assert_eq!(
            s.metrics_listen, None,
            "by default /metrics is on the main listener"
        );
        let s = Settings::from_sources(
            &env(&[]),
            Some((
                Path::new("plaster.toml"),
                "metrics_listen = \"127.0.0.1:9100\"\n",
            )),
        )
        .expect("valid");
        assert_eq!(
            s.metrics_listen,
            Some(SocketAddr::from(([127, 0, 0, 1], 9100)))
        );
        let err = Settings::from_sources(&env(&[("PLASTER_METRICS_LISTEN", "9100")]), None)
            .expect_err("no host")
            .to_string();
        assert!(
            err.contains("PLASTER_METRICS_LISTEN") && err.contains("environment variable"),
            "{err}"
        );
        let err = Settings::from_sources(
            &env(&[
                ("PLASTER_LISTEN", "127.0.0.1:3000"),
                ("PLASTER_METRICS_LISTEN", "127.0.0.1:3000"),
            ]),
            None,
        )
        .expect_err("the same address twice")
        .to_string();
        assert!(err.contains("must differ from PLASTER_LISTEN"), "{err}");
    }

    #[test]
    fn smtp_password_never_shows_in_debug_output() {
        let s = Settings::from_sources(
            &env(&[
                ("PLASTER_SMTP_HOST", "mail.example.com"),
                ("PLASTER_SMTP_PASSWORD", "hunter2"),
            ]),
            None,
        )
        .expect("valid");
        let smtp = s.smtp.expect("smtp configured");
        assert_eq!(smtp.port, 587);
        assert!(!format!("{smtp:?}").contains("hunter2"));
    }

    #[test]
    fn secrets_are_never_echoed_and_never_sent_in_clear() {
        let err = Settings::from_sources(&env(&[("DATABASE_URL", "mysql://u:hunter2@db/x")]), None)
            .expect_err("bad url")
            .to_string();
        assert!(
            err.contains("DATABASE_URL") && !err.contains("hunter2"),
            "{err}"
        );
        let clear = |host: &str| {
            Settings::from_sources(
                &env(&[
                    ("PLASTER_SMTP_HOST", host),
                    ("PLASTER_SMTP_TLS", "none"),
                    ("PLASTER_SMTP_PASSWORD", "hunter2"),
                ]),
                None,
            )
        };
        let err = clear("mail.example.com")
            .expect_err("clear text")
            .to_string();
        assert!(
            err.contains("unencrypted") && !err.contains("hunter2"),
            "{err}"
        );
        assert!(clear("127.0.0.1").is_ok() && clear("localhost").is_ok());
    }
}
