/*
 * adk_prov: the provenance every output file carries on "/": adkit_version, git_commit,
 * command_line, seed (when the run has one), mpi_ranks, created_utc, inputs. Collected here from
 * the context, written by adk_out, so the list has one definition.
 */
#ifndef ADK_PROV_H
#define ADK_PROV_H

#include <stddef.h>
#include <stdint.h>

#include "adk_ctx.h"

typedef enum { ADK_PROV_STR, ADK_PROV_I64, ADK_PROV_U64 } adk_prov_kind_t;

typedef struct {
    const char *name;
    adk_prov_kind_t kind;
    const char *s; /* ADK_PROV_STR: points into the context or the adk_prov_t */
    int64_t i;
    uint64_t u;
} adk_prov_item_t;

#define ADK_PROV_MAX 8

typedef struct {
    char created_utc[32]; /* ISO 8601, UTC, seconds */
    size_t n;
    adk_prov_item_t item[ADK_PROV_MAX]; /* in the order they are written */
} adk_prov_t;

/**
 * Collect the provenance of the run. Attributes are metadata written identically by every rank,
 * so the time is rank 0's clock, broadcast.
 * @return ADK_OK or ADK_EMPI; agreed. Collective.
 */
int adk_prov_collect(adk_ctx_t *ctx, adk_prov_t *p);

#endif
