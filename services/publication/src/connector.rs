//! The connector to outside publicity and credit systems: deliveries written in the transaction that publishes
//! (the service's own outbox for them), sent by a worker through a [`Transport`] with back-off, kept as dead
//! letters when the attempts run out; and the daily export file of what was published and corrected.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::NaiveDate;
use hmac::{Hmac, Mac};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use sha2::Sha256;
use suiji_platform::calendar::china_date;
use suiji_platform::config::ConnectorSettings;
use suiji_platform::db::now_ms;
use suiji_platform::error::Error;
use tokio_util::sync::CancellationToken;

use crate::domain::public::{PublicRecord, china_time};
use crate::service::Publications;
use crate::store::{self, Delivery};

/// How a delivery reaches an outside system; other transports (a message queue, SFTP) implement it too.
#[async_trait::async_trait]
pub trait Transport: Send + Sync {
    /// Sends one delivery; `Err` says why it did not arrive (it is tried again).
    async fn send(&self, d: &Delivery) -> Result<(), String>;
}

/// HTTP POST of the JSON body, signed with HMAC-SHA256 over `timestamp.body` in `X-Suiji-Signature:
/// t=<unix seconds>,v1=<hex>`, so the receiver can check the sender and refuse replays; any 2xx is accepted.
pub struct Webhook {
    url: http::Uri,
    secret: Vec<u8>,
    client: Client<HttpConnector, Full<Bytes>>,
}

/// The signature header value for `body` sent at `timestamp` (unix seconds) with `secret`.
pub fn signature(secret: &[u8], timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

impl Webhook {
    /// A webhook to `settings.url`.
    pub fn new(settings: &ConnectorSettings) -> Result<Self, String> {
        let url: http::Uri = settings
            .url
            .parse()
            .map_err(|e| format!("publication.connectors {}: url: {e}", settings.name))?;
        if url.scheme_str() != Some("http") {
            return Err(format!(
                "publication.connectors {}: url: only http:// is sent directly; put TLS in the egress proxy or \
                 service mesh",
                settings.name
            ));
        }
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        Ok(Self {
            url,
            secret: settings.secret.expose().as_bytes().to_vec(),
            client: Client::builder(TokioExecutor::new()).build(connector),
        })
    }
}

#[async_trait::async_trait]
impl Transport for Webhook {
    async fn send(&self, d: &Delivery) -> Result<(), String> {
        let timestamp = now_ms() / 1000;
        let request = http::Request::post(self.url.clone())
            .header(
                http::header::CONTENT_TYPE,
                "application/json; charset=utf-8",
            )
            .header("x-suiji-delivery", &d.id)
            .header("x-suiji-kind", &d.kind)
            .header(
                "x-suiji-signature",
                signature(&self.secret, timestamp, &d.body),
            )
            .body(Full::new(Bytes::from(d.body.clone())))
            .map_err(|e| e.to_string())?;
        let response = tokio::time::timeout(Duration::from_secs(10), self.client.request(request))
            .await
            .map_err(|_| "no answer within 10 s".to_string())?
            .map_err(|e| e.to_string())?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("answered {}", response.status()))
        }
    }
}

/// The transports of the configured connectors, by name.
pub fn transports(
    connectors: &[ConnectorSettings],
) -> Result<HashMap<String, Arc<dyn Transport>>, String> {
    let mut out: HashMap<String, Arc<dyn Transport>> = HashMap::new();
    for c in connectors {
        let t: Arc<dyn Transport> = match c.kind.as_str() {
            "webhook" => Arc::new(Webhook::new(c)?),
            other => {
                return Err(format!(
                    "publication.connectors {}: kind {other:?} is not known (webhook)",
                    c.name
                ));
            }
        };
        if out.insert(c.name.clone(), t).is_some() {
            return Err(format!("publication.connectors: {} is named twice", c.name));
        }
    }
    Ok(out)
}

/// Back-off after `attempts` failed attempts: 2, 4, 8 … seconds, at most an hour.
pub fn backoff(attempts: u32) -> Duration {
    Duration::from_secs(2u64.saturating_pow(attempts.min(12)).min(3600))
}

/// Sends due deliveries until `shutdown`, every second or sooner when there were some.
pub async fn deliver(
    publications: Publications,
    transports: HashMap<String, Arc<dyn Transport>>,
    shutdown: CancellationToken,
) {
    let attempts = publications.settings().delivery_attempts.max(1) as i64;
    loop {
        let sent = match round(&publications, &transports, attempts).await {
            Ok(n) => n,
            Err(error) => {
                tracing::warn!(%error, "delivery round failed");
                0
            }
        };
        if sent == 0 {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        } else if shutdown.is_cancelled() {
            return;
        }
    }
}

/// One round: every due delivery attempted once. Returns how many were attempted.
pub async fn round(
    publications: &Publications,
    transports: &HashMap<String, Arc<dyn Transport>>,
    attempts: i64,
) -> Result<usize, Error> {
    let now = now_ms();
    let due = {
        let mut conn = publications.db().pool().acquire().await?;
        store::due_deliveries(&mut conn, now, 100).await?
    };
    for d in &due {
        let outcome = match transports.get(&d.connector) {
            Some(t) => t.send(d).await,
            None => Err(format!("connector {} is no longer configured", d.connector)),
        };
        let now = now_ms();
        let (state, next, error) = match outcome {
            Ok(()) => ("delivered", now, String::new()),
            Err(e) if d.attempts + 1 >= attempts => ("dead", now, e),
            Err(e) => (
                "pending",
                now + backoff((d.attempts + 1) as u32).as_millis() as i64,
                e,
            ),
        };
        if state == "dead" {
            tracing::warn!(delivery = %d.id, connector = %d.connector, %error, "delivery is a dead letter");
        }
        let mut conn = publications.db().pool().acquire().await?;
        store::attempted(&mut conn, &d.id, state, next, &error, now).await?;
    }
    Ok(due.len())
}

/// The header of the daily export file.
const HEADER: [&str; 11] = [
    "统一社会信用代码",
    "名称",
    "抽查任务",
    "检查实施机关",
    "类型",
    "日期",
    "检查事项",
    "结果",
    "公示时间",
    "更正",
    "结果编号",
];

/// The CSV of the records published or corrected on a day, a page at a time (memory stays bounded whatever the
/// day's volume); UTF-8 with a BOM, as spreadsheets expect.
pub struct Export {
    day: NaiveDate,
    after: String,
    started: bool,
    done: bool,
}

impl Export {
    /// The export of `day`.
    pub fn new(day: NaiveDate) -> Self {
        Self {
            day,
            after: String::new(),
            started: false,
            done: false,
        }
    }

    /// The next chunk of the file; `None` at its end.
    pub async fn next(&mut self, publications: &Publications) -> Result<Option<Vec<u8>>, Error> {
        if !self.started {
            self.started = true;
            let mut head = b"\xEF\xBB\xBF".to_vec();
            head.extend(csv_rows(&[HEADER.iter().map(|s| s.to_string()).collect()]));
            return Ok(Some(head));
        }
        if self.done {
            return Ok(None);
        }
        let page = publications
            .published_on(self.day, &self.after, 1000)
            .await?;
        let Some(last) = page.last() else {
            self.done = true;
            return Ok(None);
        };
        self.after = last.id.clone();
        let rows: Vec<Vec<String>> = page.iter().map(export_row).collect();
        Ok(Some(csv_rows(&rows)))
    }
}

fn export_row(r: &PublicRecord) -> Vec<String> {
    let corrections = r
        .corrections
        .iter()
        .map(|c| {
            format!(
                "{} 更正（原结果：{}；原因：{}）",
                c.time, c.previous_result, c.reason
            )
        })
        .collect::<Vec<_>>()
        .join("；");
    vec![
        r.credit_code.clone(),
        r.target_name.clone(),
        r.task_name.clone(),
        r.authority.clone(),
        r.inspection_type.clone(),
        r.inspection_date.clone(),
        r.item.clone(),
        r.result.clone(),
        china_time(r.published_at),
        corrections,
        r.id.clone(),
    ]
}

fn csv_rows(rows: &[Vec<String>]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.write_record(
            r.iter()
                .map(|c| suiji_platform::spreadsheet::neutralised(c).into_owned()),
        )
        .expect("writing to memory cannot fail");
    }
    w.into_inner().expect("writing to memory cannot fail")
}

/// Writes yesterday's export file into `dir` once (named `published-YYYY-MM-DD.csv`, written beside and renamed,
/// so a reader never sees half a file), checking every hour until `shutdown`.
pub async fn daily_files(publications: Publications, dir: String, shutdown: CancellationToken) {
    loop {
        let yesterday = china_date(now_ms()).pred_opt().expect("a day before today");
        if let Err(error) = write_day(&publications, Path::new(&dir), yesterday).await {
            tracing::warn!(%error, day = %yesterday, "daily export file not written");
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
        }
    }
}

/// Writes the export file of `day` into `dir` unless it is there.
pub async fn write_day(
    publications: &Publications,
    dir: &Path,
    day: NaiveDate,
) -> Result<bool, Error> {
    use tokio::io::AsyncWriteExt;
    let io = |e: std::io::Error| Error::Internal(format!("{}: {e}", dir.display()));
    let path = dir.join(format!("published-{day}.csv"));
    if tokio::fs::try_exists(&path).await.map_err(io)? {
        return Ok(false);
    }
    tokio::fs::create_dir_all(dir).await.map_err(io)?;
    let partial = dir.join(format!(".published-{day}.csv.partial"));
    let mut file = tokio::fs::File::create(&partial).await.map_err(io)?;
    let mut export = Export::new(day);
    while let Some(chunk) = export.next(publications).await? {
        file.write_all(&chunk).await.map_err(io)?;
    }
    file.sync_all().await.map_err(io)?;
    tokio::fs::rename(&partial, &path).await.map_err(io)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_over_time_and_body() {
        // Computed independently: python3 -c 'import hmac,hashlib;
        // print(hmac.new(b"key", b"1700000000.{}", hashlib.sha256).hexdigest())'
        let s = signature(b"key", 1_700_000_000, "{}");
        assert_eq!(
            s,
            "t=1700000000,v1=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"
        );
        assert_ne!(s, signature(b"other", 1_700_000_000, "{}"));
        assert_ne!(s, signature(b"key", 1_700_000_001, "{}"));
        assert_ne!(s, signature(b"key", 1_700_000_000, "{ }"));
    }

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff(1), Duration::from_secs(2));
        assert_eq!(backoff(3), Duration::from_secs(8));
        assert_eq!(backoff(40), Duration::from_secs(3600));
    }
}
