using Cimef.Site.Access;
using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Notifications;
using Cimef.Site.Web;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Api;

/// <summary>The spec's patient-access endpoints (Admin, Secretary). Passwords only in generate and the audited detail.</summary>
public static class AccessApi
{
    public sealed record GenerateBody(int? PatientId);
    public sealed record UpdateBody(bool? IsActive, bool? Regenerate);

    public static void MapAccessApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/patients/access").RequireAuthorization(Policies.AccessManagement);

        group.MapPost("/generate/", async (HttpRequest request, CimefDb db, AccessProvisioning provisioning, TimeProvider time, CancellationToken ct) =>
        {
            var (body, error) = await ApiJson.ReadAsync<GenerateBody>(request);
            if (error is not null) return error;
            if (body!.PatientId is null) return ApiJson.Errors(new() { ["patient_id"] = ["Le patient est obligatoire."] });
            var patient = await db.Patients.SingleOrDefaultAsync(p => p.Id == body.PatientId, ct);
            if (patient is null) return ApiJson.NotFound("Patient introuvable.");
            var now = time.GetUtcNow().UtcDateTime;
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var (access, created) = await provisioning.GetOrCreateAsync(patient.Id, request.HttpContext.User, ct);
            Outbox.Queue(db, OutboxKind.Credentials, patient, access, null, now);
            await db.SaveChangesAsync(ct);
            Audit.Staff(db, request.HttpContext.User, now, "access.generate", "PatientAccess", access.Id,
                $"patient {patient.Id}, identifiants {(created ? "créés" : "existants")} communiqués, clé …{CredentialGenerator.Suffix(access.AccessKey)}");
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            return Results.Json(new
            {
                id = access.Id,
                access_key = access.AccessKey,
                password = provisioning.RevealPassword(access),
                is_active = access.IsActive,
                created,
            }, statusCode: created ? StatusCodes.Status201Created : StatusCodes.Status200OK);
        });

        group.MapGet("/", async (string? q, string? status, int? page, CimefDb db, TimeProvider time, IOptions<PortalOptions> portal, CancellationToken ct) =>
        {
            if (status is not (null or "" or "active" or "inactive" or "locked"))
                return ApiJson.Errors(new() { ["status"] = ["Statut inconnu : active, inactive ou locked."] });
            var p = portal.Value;
            var since = time.GetUtcNow().UtcDateTime.AddSeconds(-p.LoginAttemptDelaySeconds);
            var (rows, hasNext) = await AccessList.RunAsync(db.Database.GetDbConnection(), q, status, page ?? 1, since, p.MaxLoginAttempts, ct);
            return Results.Json(new
            {
                results = rows.Select(r => Json(r, p.MaxLoginAttempts)),
                next = hasNext ? $"/api/patients/access/?q={Uri.EscapeDataString(q ?? "")}&status={status}&page={(page ?? 1) + 1}" : null,
            });
        });

        group.MapGet("/{id:int}/", async (int id, HttpContext http, CimefDb db, AccessProvisioning provisioning, TimeProvider time,
            IOptions<PortalOptions> portal, CancellationToken ct) =>
        {
            var access = await db.PatientAccesses.Include(a => a.Patient).SingleOrDefaultAsync(a => a.Id == id, ct);
            if (access is null) return ApiJson.NotFound("Accès introuvable.");
            var now = time.GetUtcNow().UtcDateTime;
            var failures = await AccessList.FailuresAsync(db.Database.GetDbConnection(), access.Id, now.AddSeconds(-portal.Value.LoginAttemptDelaySeconds), ct);
            Audit.Staff(db, http.User, now, "access.reveal", "PatientAccess", access.Id, $"patient {access.PatientId} (API)");
            await db.SaveChangesAsync(ct);
            var locked = failures >= portal.Value.MaxLoginAttempts;
            return Results.Json(new
            {
                id = access.Id,
                patient_id = access.PatientId,
                full_name = access.Patient.FullName,
                access_key = access.AccessKey,
                password = provisioning.RevealPassword(access),
                is_active = access.IsActive,
                status = !access.IsActive ? "inactive" : locked ? "locked" : "active",
                access_count = access.AccessCount,
                last_access = access.LastAccess,
                failed_attempts = failures,
                created_at = access.CreatedAt,
            });
        });

        group.MapPut("/{id:int}/", async (int id, HttpRequest request, CimefDb db, AccessProvisioning provisioning, TimeProvider time, CancellationToken ct) =>
        {
            var (body, error) = await ApiJson.ReadAsync<UpdateBody>(request);
            if (error is not null) return error;
            if (body!.IsActive is null && body.Regenerate is not true)
                return ApiJson.Error("Indiquez « is_active » (true/false) ou « regenerate »: true.");
            var access = await db.PatientAccesses.Include(a => a.Patient).SingleOrDefaultAsync(a => a.Id == id, ct);
            if (access is null) return ApiJson.NotFound("Accès introuvable.");
            var user = request.HttpContext.User;
            var now = time.GetUtcNow().UtcDateTime;
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            if (body.IsActive is true && !access.IsActive)
            {
                access.IsActive = true;
                access.DeactivatedAt = null;
                access.DeactivatedBy = null;
                Audit.Staff(db, user, now, "access.activate", "PatientAccess", access.Id, $"patient {access.PatientId}");
            }
            else if (body.IsActive is false && access.IsActive)
                await provisioning.DeactivateAsync(access, user, ct);
            if (body.Regenerate is true)
            {
                await provisioning.RegenerateAsync(access, user, ct);
                Outbox.Queue(db, OutboxKind.Credentials, access.Patient, access, null, now);
            }
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            return Results.Json(new
            {
                id = access.Id,
                access_key = access.AccessKey,
                is_active = access.IsActive,
                regenerated = body.Regenerate is true,
            });
        });
    }

    private static object Json(AccessList.Row r, int max) => new
    {
        id = r.Id,
        patient_id = r.PatientId,
        full_name = r.FullName,
        phone = r.Phone,
        access_key = r.AccessKey,
        is_active = r.IsActive,
        status = r.Status(max),
        access_count = r.AccessCount,
        last_access = r.LastAccess,
        failed_attempts = r.FailedAttempts,
        created = r.CreatedAt,
    };
}
