# The one suiji image: every service (`suiji serve <service>`) and the console (`suiji serve console`) run from it
# (charts/suiji deploys one Deployment each). Reference data, the calendar, the pages and the console's web app are
# compiled in; protoc comes from the protoc-bin-vendored crate. The web app is built in a Node.js stage and handed to
# the Rust build (SUIJI_WEB_DIST), so the Rust image needs no npm.
#   docker build -t registry.example.gov.cn/suiji:0.1.0 .
FROM node:20-bookworm AS web
WORKDIR /src
COPY package.json package-lock.json ./
COPY services/console/web/package.json services/console/web/
RUN npm ci --no-audit --no-fund
COPY proto proto
COPY services/console/web services/console/web
RUN cd services/console/web && SUIJI_WEB_OUT=/web-dist npm run build

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
COPY --from=web /web-dist /web-dist
ENV SUIJI_WEB_DIST=/web-dist
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
