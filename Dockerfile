# The compendium's environment in a container: Python 3.11.7 (the Python that
# made the committed outputs), Debian's Chromium for the browser test, and every
# Python package from the hashed lock. Not built here (no Docker on the machine
# that wrote it): see README, "Docker".
#
# The base image is named by version and digest. The digest was taken from a
# public, Renovate-maintained pin of python:3.11.7-slim-bookworm and has not
# been checked against the registry from here; check it before relying on it:
#   docker buildx imagetools inspect python:3.11.7-slim-bookworm
FROM python:3.11.7-slim-bookworm@sha256:d11b9bd5e49ea7401753d78f4d3b56f3aec952b85b49bcae88981f0452818e0b

# make and git run the pipeline and its receipt; Chromium and its driver the
# browser test of the HTML edition; libmagic the licence check (reuse).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      make git ca-certificates libmagic1 chromium chromium-driver poppler-utils \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /compendium
COPY . .
# The same setup as on any machine: .venv from the lock, pip checking every hash.
RUN make setup PYTHON=/usr/local/bin/python3.11

# `docker run IMAGE` runs the tests; `docker run IMAGE make all` reruns everything.
CMD ["make", "test"]
