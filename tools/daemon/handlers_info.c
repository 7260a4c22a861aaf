/* Informational and admin RPCs: GetInfo, ListSlots, GetTokenInfo,
 * GetMechanismList, HealthCheck, AuditHead, Backup. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"

#define MAX_SLOTS 64u
#define MAX_MECHS 512u

static void set_version(CratonHsm__V1__Version *v, CK_VERSION in)
{
    craton_hsm__v1__version__init(v);
    v->major = in.major;
    v->minor = in.minor;
}

CHSM_HANDLER(GetInfo)
{
    CratonHsm__V1__GetInfoResponse r = CRATON_HSM__V1__GET_INFO_RESPONSE__INIT;
    CratonHsm__V1__Version cv, lv;
    CK_INFO info;
    char manuf[33], desc[33];
    CK_RV rv = chsm_core_GetInfo(&info);
    CHSM_UNUSED(req);

    if (rv != CKR_OK) {
        chsm_h_fail_rv(h, rv, "GetInfo");
        return;
    }
    chsm_padded_to_str(info.manufacturerID, sizeof info.manufacturerID, manuf, sizeof manuf);
    chsm_padded_to_str(info.libraryDescription, sizeof info.libraryDescription, desc, sizeof desc);
    set_version(&cv, info.cryptokiVersion);
    set_version(&lv, info.libraryVersion);
    r.cryptoki_version = &cv;
    r.library_version = &lv;
    r.manufacturer_id = manuf;
    r.library_description = desc;
    r.flags = info.flags;
    r.daemon_version = (char *)CHSM_VERSION_STRING;
    chsm_h_ok(h, &r.base);
}

CHSM_HANDLER(ListSlots)
{
    CratonHsm__V1__ListSlotsRequest *q = (CratonHsm__V1__ListSlotsRequest *)req;
    CratonHsm__V1__ListSlotsResponse r = CRATON_HSM__V1__LIST_SLOTS_RESPONSE__INIT;
    CK_SLOT_ID ids[MAX_SLOTS];
    CK_ULONG n = MAX_SLOTS;
    CratonHsm__V1__SlotInfo infos[MAX_SLOTS], *ptrs[MAX_SLOTS];
    CratonHsm__V1__Version hw[MAX_SLOTS], fw[MAX_SLOTS];
    char desc[MAX_SLOTS][65], manuf[MAX_SLOTS][33];
    CK_RV rv = chsm_core_GetSlotList(h->client->app, q->token_present ? CK_TRUE : CK_FALSE, ids, &n);

    if (rv != CKR_OK) {
        chsm_h_fail_rv(h, rv, "GetSlotList");
        return;
    }
    for (CK_ULONG i = 0; i < n; i++) {
        CK_SLOT_INFO si;
        rv = chsm_core_GetSlotInfo(h->client->app, ids[i], &si);
        if (rv != CKR_OK) {
            chsm_h_fail_rv(h, rv, "GetSlotInfo");
            return;
        }
        craton_hsm__v1__slot_info__init(&infos[i]);
        chsm_padded_to_str(si.slotDescription, sizeof si.slotDescription, desc[i], sizeof desc[i]);
        chsm_padded_to_str(si.manufacturerID, sizeof si.manufacturerID, manuf[i], sizeof manuf[i]);
        set_version(&hw[i], si.hardwareVersion);
        set_version(&fw[i], si.firmwareVersion);
        infos[i].slot_id = ids[i];
        infos[i].description = desc[i];
        infos[i].manufacturer_id = manuf[i];
        infos[i].flags = si.flags;
        infos[i].hardware_version = &hw[i];
        infos[i].firmware_version = &fw[i];
        ptrs[i] = &infos[i];
    }
    r.n_slots = n;
    r.slots = ptrs;
    chsm_h_ok(h, &r.base);
}

CHSM_HANDLER(GetTokenInfo)
{
    CratonHsm__V1__GetTokenInfoRequest *q = (CratonHsm__V1__GetTokenInfoRequest *)req;
    CratonHsm__V1__GetTokenInfoResponse r = CRATON_HSM__V1__GET_TOKEN_INFO_RESPONSE__INIT;
    CratonHsm__V1__Version hw, fw;
    CK_TOKEN_INFO ti;
    char label[33], manuf[33], model[17], serial[17], utc[17];
    CK_RV rv = chsm_core_GetTokenInfo(h->client->app, (CK_SLOT_ID)q->slot_id, &ti);

    if (rv != CKR_OK) {
        chsm_h_fail_rv(h, rv, "GetTokenInfo");
        return;
    }
    chsm_padded_to_str(ti.label, sizeof ti.label, label, sizeof label);
    chsm_padded_to_str(ti.manufacturerID, sizeof ti.manufacturerID, manuf, sizeof manuf);
    chsm_padded_to_str(ti.model, sizeof ti.model, model, sizeof model);
    chsm_padded_to_str(ti.serialNumber, sizeof ti.serialNumber, serial, sizeof serial);
    chsm_padded_to_str(ti.utcTime, sizeof ti.utcTime, utc, sizeof utc);
    set_version(&hw, ti.hardwareVersion);
    set_version(&fw, ti.firmwareVersion);
    r.label = label;
    r.manufacturer_id = manuf;
    r.model = model;
    r.serial_number = serial;
    r.utc_time = utc;
    r.flags = ti.flags;
    r.max_session_count = ti.ulMaxSessionCount;
    r.session_count = ti.ulSessionCount;
    r.max_rw_session_count = ti.ulMaxRwSessionCount;
    r.rw_session_count = ti.ulRwSessionCount;
    r.max_pin_len = ti.ulMaxPinLen;
    r.min_pin_len = ti.ulMinPinLen;
    r.total_public_memory = ti.ulTotalPublicMemory;
    r.free_public_memory = ti.ulFreePublicMemory;
    r.total_private_memory = ti.ulTotalPrivateMemory;
    r.free_private_memory = ti.ulFreePrivateMemory;
    r.hardware_version = &hw;
    r.firmware_version = &fw;
    chsm_h_ok(h, &r.base);
}

CHSM_HANDLER(GetMechanismList)
{
    CratonHsm__V1__GetMechanismListRequest *q = (CratonHsm__V1__GetMechanismListRequest *)req;
    CratonHsm__V1__GetMechanismListResponse r = CRATON_HSM__V1__GET_MECHANISM_LIST_RESPONSE__INIT;
    CK_MECHANISM_TYPE *types = calloc(MAX_MECHS, sizeof *types);
    CratonHsm__V1__MechanismInfo *infos = calloc(MAX_MECHS, sizeof *infos);
    CratonHsm__V1__MechanismInfo **ptrs = calloc(MAX_MECHS, sizeof *ptrs);
    CK_ULONG n = MAX_MECHS;
    CK_RV rv;

    if (types == NULL || infos == NULL || ptrs == NULL) {
        chsm_h_fail_rv(h, CKR_HOST_MEMORY, "GetMechanismList");
        goto out;
    }
    rv = chsm_core_GetMechanismList(h->client->app, (CK_SLOT_ID)q->slot_id, types, &n);
    if (rv != CKR_OK) {
        chsm_h_fail_rv(h, rv, "GetMechanismList");
        goto out;
    }
    for (CK_ULONG i = 0; i < n; i++) {
        CK_MECHANISM_INFO mi;
        rv = chsm_core_GetMechanismInfo(h->client->app, (CK_SLOT_ID)q->slot_id, types[i], &mi);
        if (rv != CKR_OK) {
            chsm_h_fail_rv(h, rv, "GetMechanismInfo");
            goto out;
        }
        craton_hsm__v1__mechanism_info__init(&infos[i]);
        infos[i].type = types[i];
        infos[i].name = (char *)chsm_mech_name(types[i]);
        infos[i].min_key_size = mi.ulMinKeySize;
        infos[i].max_key_size = mi.ulMaxKeySize;
        infos[i].flags = mi.flags;
        ptrs[i] = &infos[i];
    }
    r.n_mechanisms = n;
    r.mechanisms = ptrs;
    chsm_h_ok(h, &r.base);
out:
    free(types);
    free(infos);
    free(ptrs);
}

CHSM_HANDLER(HealthCheck)
{
    CratonHsm__V1__HealthCheckResponse r = CRATON_HSM__V1__HEALTH_CHECK_RESPONSE__INIT;
    struct chsm_core_status st;
    CK_RV rv = chsm_core_get_status(&st);
    CHSM_UNUSED(req);

    if (rv != CKR_OK) {
        chsm_h_fail_rv(h, rv, "HealthCheck");
        return;
    }
    r.status = st.selftests_passed ? CRATON_HSM__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
                                   : CRATON_HSM__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
    r.selftests_passed = st.selftests_passed;
    r.selftests_run = st.selftests_run;
    st.store_path[sizeof st.store_path - 1] = '\0';
    st.audit_head[sizeof st.audit_head - 1] = '\0';
    r.store_path = st.store_path;
    r.store_volatile = st.store_volatile;
    r.store_format_version = st.store_format_version;
    r.store_lock_held = st.store_lock_held_by_us;
    r.audit_seq = st.audit_seq;
    r.audit_head = st.audit_head;
    r.uptime_seconds = chsm_h_uptime_s();
    r.version = (char *)CHSM_VERSION_STRING;
    chsm_h_ok(h, &r.base);
}

CHSM_HANDLER(AuditHead)
{
    CratonHsm__V1__AuditHeadResponse r = CRATON_HSM__V1__AUDIT_HEAD_RESPONSE__INIT;
    struct chsm_core_status st;
    CK_RV rv = chsm_core_get_status(&st);
    CHSM_UNUSED(req);

    if (rv != CKR_OK) {
        chsm_h_fail_rv(h, rv, "AuditHead");
        return;
    }
    st.audit_head[sizeof st.audit_head - 1] = '\0';
    r.seq = st.audit_seq;
    r.hash = st.audit_head;
    chsm_h_ok(h, &r.base);
}

#ifdef CHSM_DAEMON_HAVE_ARCHIVE
#include "backup.h"

/* Backup: the same archive as craton-hsm-admin backup; the SO PIN check is
 * throttled like Login (per client and per slot). */
CHSM_HANDLER(Backup)
{
    CratonHsm__V1__BackupRequest *q = (CratonHsm__V1__BackupRequest *)req;
    CratonHsm__V1__BackupResponse r = CRATON_HSM__V1__BACKUP_RESPONSE__INIT;
    uint8_t *buf = NULL;
    size_t len = 0;
    CK_SLOT_ID slot = (CK_SLOT_ID)q->slot_id;
    CK_RV rv;

    if (!chsm_h_pin_gate(h, &slot))
        return;
    /* Leave room for the response framing under the send limit. */
    rv = chsm_daemon_backup((uint32_t)q->slot_id, q->so_pin.data, q->so_pin.len,
                            h->settings->max_send_message_bytes - 64u, &buf, &len);
    chsm_h_pin_result(h, &slot, rv, true);
    if (rv != CKR_OK) {
        chsm_h_fail_rv(h, rv, "Backup");
    } else {
        r.archive.data = buf;
        r.archive.len = len;
        chsm_h_ok(h, &r.base);
    }
    free(buf);
}
#else
/*
 * Without the archive engine (src/store/archive.h, built as chsm_archive by
 * tools/admin) the RPC says so instead of producing a format of its own.
 */
CHSM_HANDLER(Backup)
{
    CHSM_UNUSED(req);
    chsm_h_fail(h, CHSM_DS_UNIMPLEMENTED,
                "CKR_FUNCTION_NOT_SUPPORTED: Backup over gRPC needs the archive engine (src/store/archive.h), "
                "which this build does not have; use craton-hsm-admin backup on the host");
}
#endif
