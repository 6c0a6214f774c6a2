# syntax=docker/dockerfile:1

# Build stage: a static binary (CGO off: the SQLite driver is pure Go).
FROM golang:1.26 AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false
# Modules first, so that a code change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags "-s -w -X github.com/shopauth/shopauth/cli.version=${VERSION}" -o /out/shopauth .

# Run stage: alpine rather than distroless, only for busybox wget in the
# HEALTHCHECK (the binary has no health-check command of its own).
FROM alpine:3.20
RUN apk add --no-cache ca-certificates tzdata \
 && addgroup -S -g 10001 shopauth \
 && adduser -S -D -H -u 10001 -G shopauth shopauth \
 && install -d -o shopauth -g shopauth /data
COPY --from=build /out/shopauth /usr/local/bin/shopauth
USER 10001:10001
WORKDIR /data
# Without a MySQL URL the SQLite file, and the key encryption key generated
# beside it, live in /data: mount a volume there to keep them.
ENV SHOPAUTH_HTTP_ADDR=:8080 \
    SHOPAUTH_DATABASE_URL=sqlite:///data/shopauth.db
EXPOSE 8080
# Plain http on the loopback: with SHOPAUTH_TLS_CERT_FILE set, or another
# SHOPAUTH_HTTP_ADDR, override this healthcheck.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD wget -q -O /dev/null http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["shopauth"]
CMD ["serve"]
