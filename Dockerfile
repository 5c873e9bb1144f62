# karbor-protection in a container; docker-compose.yml runs it with RabbitMQ.
#
#   docker build -t karbor-protection .
#   docker run --rm karbor-protection --version
#
# The image lays the service out as the repository does (etc/ and var/ under
# the working directory /opt/karbor), so the sample configuration works
# unchanged: etc/karbor.conf.sample, the noop provider of etc/providers.d and
# its file-system bank in var/bank (a volume).

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/gokarbor/karbor-protection/cmd/karbor-protection/internal/app.version=${VERSION}" \
      -o /out/karbor-protection ./cmd/karbor-protection

FROM debian:bookworm-slim
RUN useradd --system --user-group --uid 42424 --home-dir /opt/karbor karbor \
 && mkdir -p /opt/karbor/etc /opt/karbor/var \
 && chown karbor:karbor /opt/karbor/var
COPY --from=build /out/karbor-protection /usr/local/bin/karbor-protection
COPY etc/ /opt/karbor/etc/
WORKDIR /opt/karbor
USER karbor
VOLUME ["/opt/karbor/var"]
ENTRYPOINT ["/usr/local/bin/karbor-protection"]
CMD ["--config-file", "/opt/karbor/etc/karbor.conf.sample"]
