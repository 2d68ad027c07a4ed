/**
 * Where providers, routes and the other configuration documents live between restarts. {@link
 * dev.llmgw.controlplane.store.ConfigStore} is the contract: every commit is atomic, durable before
 * it is acknowledged, conditional on revisions when asked, and moves one store-wide version up by
 * one. {@link dev.llmgw.controlplane.store.FileConfigStore} is the embedded default (snapshot plus
 * fsync'd journal); {@link dev.llmgw.controlplane.store.InMemoryConfigStore} is for tests. The file
 * format, crash guarantees and the path to an external store are in {@code docs/store.md}.
 */
package dev.llmgw.controlplane.store;
