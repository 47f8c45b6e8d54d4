# The one suiji image: every service (`suiji serve <service>`) and the console (`suiji serve console`) run from it
# (charts/suiji deploys one Deployment each). Reference data, the calendar and the pages are compiled in; protoc
# comes from the protoc-bin-vendored crate, so the build needs nothing beyond the Rust image.
#   docker build -t registry.example.gov.cn/suiji:0.1.0 .
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p suiji \
 && cp target/release/suiji /usr/local/bin/suiji

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 suiji \
 && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin suiji
COPY --from=build /usr/local/bin/suiji /usr/local/bin/suiji
USER 10001:10001
# Listen on every interface; temporary files (the directories' import sort) under /tmp, a volume in the chart.
ENV SUIJI_GRPC__HOST=0.0.0.0 TMPDIR=/tmp
EXPOSE 50051
ENTRYPOINT ["/usr/local/bin/suiji"]
CMD ["serve", "catalog"]
