/*
 * The deprecated pkgflat_bundle_*() names of the public API, kept exported
 * for existing callers: each forwards to its pkgflat_component_*() name.
 */
#include "model.h"

enum pkgflat_bundle_kind pkgflat_bundle_kind(const pkgflat_bundle *b)
{
	return pkgflat_component_kind(b);
}

const char *pkgflat_bundle_kind_name(enum pkgflat_bundle_kind kind)
{
	return pkgflat_component_kind_name(kind);
}

int pkgflat_bundle_is_component(const pkgflat_bundle *b)
{
	return pkgflat_component_is_leaf(b);
}

const char *pkgflat_bundle_get(const pkgflat_bundle *b, enum pkgflat_field f)
{
	return pkgflat_component_get(b, f);
}

const char *pkgflat_bundle_identifier(const pkgflat_bundle *b)
{
	return pkgflat_component_identifier(b);
}

int pkgflat_bundle_flag(const pkgflat_bundle *b, enum pkgflat_flag f)
{
	return pkgflat_component_flag(b, f);
}

const char *pkgflat_bundle_script(const pkgflat_bundle *b,
    enum pkgflat_script s)
{
	return pkgflat_component_script(b, s);
}

size_t pkgflat_bundle_child_count(const pkgflat_bundle *b)
{
	return pkgflat_component_child_count(b);
}

const pkgflat_bundle *pkgflat_bundle_child(const pkgflat_bundle *b, size_t i)
{
	return pkgflat_component_child(b, i);
}

size_t pkgflat_bundle_resource_count(const pkgflat_bundle *b)
{
	return pkgflat_component_resource_count(b);
}

const pkgflat_resource *pkgflat_bundle_resource(const pkgflat_bundle *b,
    size_t i)
{
	return pkgflat_component_resource(b, i);
}

size_t pkgflat_bundle_localization_count(const pkgflat_bundle *b)
{
	return pkgflat_component_localization_count(b);
}

const char *pkgflat_bundle_localization(const pkgflat_bundle *b, size_t i)
{
	return pkgflat_component_localization(b, i);
}

size_t pkgflat_bundle_requirement_count(const pkgflat_bundle *b)
{
	return pkgflat_component_requirement_count(b);
}

const pkgflat_requirement *pkgflat_bundle_requirement(const pkgflat_bundle *b,
    size_t i)
{
	return pkgflat_component_requirement(b, i);
}

size_t pkgflat_bundle_key_count(const pkgflat_bundle *b)
{
	return pkgflat_component_key_count(b);
}

const char *pkgflat_bundle_key(const pkgflat_bundle *b, size_t i,
    const char **value)
{
	return pkgflat_component_key(b, i, value);
}

size_t pkgflat_bundle_string_count(const pkgflat_bundle *b)
{
	return pkgflat_component_string_count(b);
}

const pkgflat_string *pkgflat_bundle_string(const pkgflat_bundle *b, size_t i)
{
	return pkgflat_component_string(b, i);
}

int64_t pkgflat_bundle_claimed_kbytes(const pkgflat_bundle *b)
{
	return pkgflat_component_claimed_kbytes(b);
}

int pkgflat_bundle_has_payload(const pkgflat_bundle *b)
{
	return pkgflat_component_has_payload(b);
}

int pkgflat_bundle_has_bom(const pkgflat_bundle *b)
{
	return pkgflat_component_has_bom(b);
}

const pkgflat_payload_stats *pkgflat_bundle_payload_stats(
    const pkgflat_bundle *b)
{
	return pkgflat_component_payload_stats(b);
}

const pkgflat_bom_stats *pkgflat_bundle_bom_stats(const pkgflat_bundle *b)
{
	return pkgflat_component_bom_stats(b);
}

pkgflat_status pkgflat_bundle_list_payload(const pkgflat_bundle *b,
    pkgflat_entry_fn fn, void *ctx, pkgflat_payload_stats *stats,
    pkgflat_error *err)
{
	return pkgflat_component_list_payload(b, fn, ctx, stats, err);
}

pkgflat_status pkgflat_bundle_list_payload_digest(const pkgflat_bundle *b,
    pkgflat_entry_fn fn, void *ctx, pkgflat_payload_stats *stats,
    pkgflat_error *err)
{
	return pkgflat_component_list_payload_digest(b, fn, ctx, stats, err);
}

pkgflat_status pkgflat_bundle_list_scripts(const pkgflat_bundle *b,
    size_t max_size, pkgflat_script_fn fn, void *ctx, pkgflat_error *err)
{
	return pkgflat_component_list_scripts(b, max_size, fn, ctx, err);
}

pkgflat_status pkgflat_bundle_list_bom(const pkgflat_bundle *b,
    pkgflat_entry_fn fn, void *ctx, pkgflat_bom_stats *stats,
    pkgflat_error *err)
{
	return pkgflat_component_list_bom(b, fn, ctx, stats, err);
}
