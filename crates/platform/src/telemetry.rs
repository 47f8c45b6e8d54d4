//! Logging and tracing: `tracing` with a readable or JSON format, OpenTelemetry traces exported by OTLP when
//! an endpoint is configured, and W3C trace context carried in gRPC metadata and AMQP headers.

use std::collections::HashMap;

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::{LogFormat, Settings};

/// Flushes exported spans when dropped, at shutdown.
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(error) = provider.shutdown()
        {
            eprintln!("telemetry: flushing spans failed: {error}");
        }
    }
}

/// Installs the global subscriber. `RUST_LOG` wins over `log.filter`. Call once, from `main`.
pub fn init(
    settings: &Settings,
    service_name: &str,
) -> Result<TelemetryGuard, Box<dyn std::error::Error + Send + Sync>> {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let filter =
        EnvFilter::try_from_default_env().or_else(|_| EnvFilter::try_new(&settings.log.filter))?;
    let fmt_layer = match settings.log.format {
        LogFormat::Pretty => tracing_subscriber::fmt::layer()
            .with_target(false)
            .compact()
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .boxed(),
    };
    let exporter = if settings.telemetry.otlp_endpoint.is_empty() {
        None
    } else {
        Some(
            opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(settings.telemetry.otlp_endpoint.clone())
                .build()?,
        )
    };
    let (provider, otel_layer) = otel(service_name, exporter);
    // The filter applies to what is logged; spans reach OpenTelemetry at INFO and above whatever is logged,
    // so trace context propagates even when logs are quiet.
    tracing_subscriber::registry()
        .with(fmt_layer.with_filter(filter))
        .with(otel_layer.with_filter(LevelFilter::INFO))
        .try_init()?;
    Ok(TelemetryGuard {
        provider: Some(provider),
    })
}

/// Spans always carry OpenTelemetry trace ids, so trace context propagates through gRPC and the bus whether
/// or not an exporter is configured; with one, spans are also exported in batches.
fn otel<S>(
    service_name: &str,
    exporter: Option<opentelemetry_otlp::SpanExporter>,
) -> (
    SdkTracerProvider,
    tracing_opentelemetry::OpenTelemetryLayer<S, opentelemetry_sdk::trace::Tracer>,
)
where
    S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
{
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(service_name.to_string())
        .build();
    let mut builder = SdkTracerProvider::builder().with_resource(resource);
    if let Some(exporter) = exporter {
        builder = builder.with_batch_exporter(exporter);
    }
    let provider = builder.build();
    let tracer = provider.tracer("suiji");
    opentelemetry::global::set_tracer_provider(provider.clone());
    // Trace ids are read from the span itself (`OpenTelemetrySpanExt::context`), so no OpenTelemetry context is
    // attached on every poll of an instrumented future; nor are busy and idle times clocked on every poll, nor
    // thread attributes added to every span (together about 6% of a busy service's CPU in a profile).
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_context_activation(false)
        .with_tracked_inactivity(false)
        .with_threads(false);
    (provider, layer)
}

/// Installs a subscriber for tests (output captured per test, trace ids on spans); harmless when one is
/// already installed.
pub fn init_for_tests() {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let (_provider, layer) = otel("suiji-test", None);
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_test_writer()
                .with_filter(filter),
        )
        .with(layer.with_filter(LevelFilter::INFO))
        .try_init();
}

/// W3C trace context headers (`traceparent`, `tracestate`) of the current span, for an outgoing message.
pub fn current_trace_headers() -> HashMap<String, String> {
    let mut headers = HashMap::new();
    let context = tracing::Span::current().context();
    TraceContextPropagator::new().inject_context(&context, &mut MapInjector(&mut headers));
    headers
}

/// Makes `span` a child of the trace named by `headers`, if they carry one.
pub fn set_parent_from(span: &tracing::Span, headers: &HashMap<String, String>) {
    let context = TraceContextPropagator::new().extract(&MapExtractor(headers));
    let _ = span.set_parent(context);
}

/// Makes `span` a child of the trace carried by incoming HTTP/gRPC headers.
pub fn set_parent_from_http(span: &tracing::Span, headers: &http::HeaderMap) {
    let context = TraceContextPropagator::new().extract(&HttpExtractor(headers));
    let _ = span.set_parent(context);
}

/// Writes the current span's trace context into outgoing gRPC metadata.
pub fn inject_into_metadata(metadata: &mut tonic::metadata::MetadataMap) {
    for (key, value) in current_trace_headers() {
        if let (Ok(key), Ok(value)) = (
            tonic::metadata::MetadataKey::from_bytes(key.as_bytes()),
            tonic::metadata::MetadataValue::try_from(value.as_str()),
        ) {
            metadata.insert(key, value);
        }
    }
}

struct MapInjector<'a>(&'a mut HashMap<String, String>);
impl Injector for MapInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key.to_string(), value);
    }
}

struct MapExtractor<'a>(&'a HashMap<String, String>);
impl Extractor for MapExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

struct HttpExtractor<'a>(&'a http::HeaderMap);
impl Extractor for HttpExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_context_round_trips_through_headers() {
        let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_string();
        let headers = HashMap::from([("traceparent".to_string(), parent.clone())]);
        let context = TraceContextPropagator::new().extract(&MapExtractor(&headers));
        let mut out = HashMap::new();
        TraceContextPropagator::new().inject_context(&context, &mut MapInjector(&mut out));
        assert_eq!(out.get("traceparent"), Some(&parent));
    }

    #[test]
    fn no_span_means_no_headers() {
        assert!(!current_trace_headers().contains_key("traceparent"));
    }
}
