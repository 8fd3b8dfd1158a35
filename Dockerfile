# A static seqstore binary on a distroless base: no shell, no package
# manager, CA certificates for an HTTPS object store, a non-root user.
#   docker build -t seqstore --build-arg VERSION=$(git describe --always) .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# Pure Go (the SQLite driver included), so CGO off gives a static binary.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/seqstore ./cmd/seqstore \
 && mkdir /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/seqstore /usr/local/bin/seqstore
# The data directory belongs to the nonroot user (65532), so a new volume
# mounted on it does too.
COPY --from=build --chown=65532:65532 /out/data /data
ENV SEQSTORE_DATA=/data \
    SEQSTORE_ADDR=0.0.0.0:9393 \
    SEQSTORE_ADMIN_ADDR=0.0.0.0:9394
VOLUME /data
# 9393: the storage API; 9394: /metrics, /healthz, /readyz.
EXPOSE 9393 9394
ENTRYPOINT ["/usr/local/bin/seqstore"]
CMD ["serve"]
