//! What one caller may ask of a server: calls without a token are rate-limited per client address (the public
//! search, the draw checks, the 扫码入企 page, sign-in), so one address cannot take the public surface for itself;
//! every call has a time limit and the server a limit on calls at once (set where the server is built).
//!
//! A limited gRPC call gets `RESOURCE_EXHAUSTED`; a limited page or form gets `429 Too Many Requests`. Both say
//! when to try again (`Retry-After`, in seconds). Health checks are not limited.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt};
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use tower::{Layer, Service};

use crate::config::LimitSettings;

/// The per-address limiter of calls without a token.
type Limiter = RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock>;

/// How often addresses not seen lately are forgotten, so the table holds only the recent ones.
const FORGET_EVERY: Duration = Duration::from_secs(60);

/// Where a request came from, as its server records it.
pub type AddressOf = fn(&http::Extensions) -> Option<IpAddr>;
/// Whether a request carries a caller's credentials (it is then not limited here: its calls are the caller's).
pub type Credentialed = fn(&HeaderMap) -> bool;

/// The address of a request to a tonic server.
pub fn tonic_address(extensions: &http::Extensions) -> Option<IpAddr> {
    extensions
        .get::<tonic::transport::server::TcpConnectInfo>()
        .and_then(|info| info.remote_addr())
        .map(|address| address.ip())
}

/// Whether a request carries an `authorization` header.
pub fn has_bearer(headers: &HeaderMap) -> bool {
    headers.contains_key(http::header::AUTHORIZATION)
}

/// Limits the calls without credentials per client address.
#[derive(Clone)]
pub struct PublicRateLimit {
    limiter: Arc<Limiter>,
    address_of: AddressOf,
    credentialed: Credentialed,
}

impl PublicRateLimit {
    /// From the settings: `per_second` calls a second from one address, in bursts of up to `burst`. Starts the
    /// task that forgets quiet addresses (it ends with the runtime).
    pub fn new(
        settings: &LimitSettings,
        address_of: AddressOf,
        credentialed: Credentialed,
    ) -> Self {
        let per_second =
            NonZeroU32::new(settings.public_per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(settings.public_burst.max(1)).unwrap_or(NonZeroU32::MIN);
        let limiter = Arc::new(RateLimiter::keyed(
            Quota::per_second(per_second).allow_burst(burst),
        ));
        let weak = Arc::downgrade(&limiter);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                loop {
                    tokio::time::sleep(FORGET_EVERY).await;
                    let Some(limiter) = weak.upgrade() else { break };
                    limiter.retain_recent();
                    limiter.shrink_to_fit();
                }
            });
        }
        Self {
            limiter,
            address_of,
            credentialed,
        }
    }

    /// `None` when a call from `address` may go ahead now, else how long until it may.
    fn wait(&self, address: IpAddr) -> Option<Duration> {
        self.limiter
            .check_key(&address)
            .err()
            .map(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

impl<S> Layer<S> for PublicRateLimit {
    type Service = Limited<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Limited {
            inner,
            limit: self.clone(),
        }
    }
}

/// A service behind [`PublicRateLimit`].
#[derive(Clone)]
pub struct Limited<S> {
    inner: S,
    limit: PublicRateLimit,
}

impl<S, B, R> Service<Request<B>> for Limited<S>
where
    S: Service<Request<B>, Response = Response<R>> + Send,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    R: Default + Send + 'static,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response<R>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // Health checks (load balancers, Kubernetes' probes, an operator's loop) are cheap and never limited.
        let health = request.uri().path().starts_with("/grpc.health.");
        if !health
            && !(self.limit.credentialed)(request.headers())
            && let Some(address) = (self.limit.address_of)(request.extensions())
            && let Some(wait) = self.limit.wait(address)
        {
            let grpc = request
                .headers()
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/grpc"));
            return futures::future::ready(Ok(refusal(grpc, wait))).boxed();
        }
        self.inner.call(request).boxed()
    }
}

/// The answer to a call over the limit: `RESOURCE_EXHAUSTED` to gRPC, `429` to anything else.
fn refusal<R: Default>(grpc: bool, wait: Duration) -> Response<R> {
    let seconds = wait.as_secs().max(1);
    let mut response = Response::new(R::default());
    if !grpc {
        *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    }
    let headers = response.headers_mut();
    headers.insert(http::header::RETRY_AFTER, HeaderValue::from(seconds));
    if grpc {
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/grpc"),
        );
        headers.insert(
            "grpc-status",
            HeaderValue::from(tonic::Code::ResourceExhausted as i32),
        );
        headers.insert(
            "grpc-message",
            HeaderValue::from_str(&format!(
                "too%20many%20calls%20from%20this%20address%3B%20try%20again%20in%20{seconds}%20s"
            ))
            .expect("ASCII"),
        );
    } else {
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(per_second: u32, burst: u32) -> LimitSettings {
        LimitSettings {
            request_timeout_secs: 60,
            max_concurrent_calls: 1000,
            public_per_second: per_second,
            public_burst: burst,
        }
    }

    #[tokio::test]
    async fn an_address_gets_its_burst_then_waits_and_others_are_not_held_up() {
        let limit = PublicRateLimit::new(&settings(1, 3), |_| None, has_bearer);
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        for _ in 0..3 {
            assert_eq!(limit.wait(a), None);
        }
        let wait = limit.wait(a).expect("the fourth call at once waits");
        assert!(wait <= Duration::from_secs(1), "{wait:?}");
        assert_eq!(limit.wait(b), None, "another address has its own burst");
    }

    #[test]
    fn a_refused_grpc_call_is_resource_exhausted_and_a_page_429() {
        let grpc: Response<String> = refusal(true, Duration::from_millis(300));
        assert_eq!(grpc.status(), StatusCode::OK);
        assert_eq!(grpc.headers()["grpc-status"], "8");
        assert_eq!(grpc.headers()[http::header::RETRY_AFTER], "1");
        let page: Response<String> = refusal(false, Duration::from_secs(4));
        assert_eq!(page.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(page.headers()[http::header::RETRY_AFTER], "4");
    }
}
