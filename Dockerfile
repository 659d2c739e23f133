# Build stage: compile the release binary.
FROM rust:1-bookworm AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev && rm -rf /var/lib/apt/lists/*
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY migrations migrations
RUN cargo build --release --locked

# Run stage: the binary, libpq, and nothing else; not root.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates \
    && rm -rf /var/lib/apt/lists/* && useradd --system --uid 10001 aftercare
COPY --from=build /src/target/release/aftercare /usr/local/bin/aftercare
USER aftercare
ENV AFTERCARE_ADDR=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["aftercare"]
# `serve` applies pending migrations before it listens.
CMD ["serve"]
