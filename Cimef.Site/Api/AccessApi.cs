using Cimef.Site.Access;
using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Web;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Api;

/// <summary>
/// The spec's patient-access endpoints (Admin, Secretary). Passwords only in generate and the detail, and only to
/// callers with the credentials permission (Access:CredentialRoles), each one audited; others get no "password".
/// </summary>
public static class AccessApi
{
    public sealed record GenerateBody(int? PatientId);
    public sealed record UpdateBody(bool? IsActive, bool? Regenerate, string? DeactivationReason);

    public static void MapAccessApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/patients/access").RequireAuthorization(Policies.AccessManagement);
        group.MapPost("/generate/", GenerateAsync);
        group.MapGet("/", ListAsync);
        group.MapGet("/{id:int}/", DetailAsync);
        group.MapPut("/{id:int}/", UpdateAsync);
    }

    private static async Task<IResult> GenerateAsync(HttpRequest request, CimefDb db, AccessProvisioning provisioning, CredentialHandover handover,
        TimeProvider time, CancellationToken ct)
    {
        var (body, error) = await ApiJson.ReadAsync<GenerateBody>(request);
        if (error is not null) return error;
        if (body!.PatientId is null) return ApiJson.Errors(new() { ["patient_id"] = ["Le patient est obligatoire."] });
        var patient = await db.Patients.SingleOrDefaultAsync(p => p.Id == body.PatientId, ct);
        if (patient is null) return ApiJson.NotFound("Patient introuvable.");
        var now = time.GetUtcNow().UtcDateTime;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var (access, created) = await provisioning.GetOrCreateAsync(patient.Id, request.HttpContext.User, ct);
        if (!access.IsActive)
            return ApiJson.Error("Accès fermé : identifiants compromis. Réactivez-le (PUT {\"is_active\": true}) : de nouveaux identifiants seront générés.",
                StatusCodes.Status409Conflict);
        await provisioning.QueueCredentialsAsync(access, ct);
        await db.SaveChangesAsync(ct);
        Audit.Staff(db, request.HttpContext.User, now, "access.generate", "PatientAccess", access.Id,
            $"patient {patient.Id}, identifiants {(created ? "créés" : "existants")} communiqués, clé …{CredentialGenerator.Suffix(access.AccessKey)}");
        var password = await handover.RevealAsync(request.HttpContext.User, access, CredentialHandover.ApiChannel);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        var json = new Dictionary<string, object?> { ["id"] = access.Id, ["access_key"] = access.AccessKey };
        if (password is not null) json["password"] = password;
        json["is_active"] = access.IsActive;
        json["created"] = created;
        return Results.Json(json, statusCode: created ? StatusCodes.Status201Created : StatusCodes.Status200OK);
    }

    private static async Task<IResult> ListAsync(string? q, string? status, int? page, CimefDb db, TimeProvider time,
        IOptions<PortalOptions> portal, CancellationToken ct)
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
    }

    private static async Task<IResult> DetailAsync(int id, HttpContext http, CimefDb db, CredentialHandover handover, TimeProvider time,
        IOptions<PortalOptions> portal, CancellationToken ct)
    {
        var access = await db.PatientAccesses.Include(a => a.Patient).SingleOrDefaultAsync(a => a.Id == id, ct);
        if (access is null) return ApiJson.NotFound("Accès introuvable.");
        var now = time.GetUtcNow().UtcDateTime;
        var failures = await AccessList.FailuresAsync(db.Database.GetDbConnection(), access.Id, now.AddSeconds(-portal.Value.LoginAttemptDelaySeconds), ct);
        var password = await handover.RevealAsync(http.User, access, CredentialHandover.ApiChannel);
        if (password is not null) await db.SaveChangesAsync(ct);
        var locked = failures >= portal.Value.MaxLoginAttempts;
        var json = new Dictionary<string, object?>
        {
            ["id"] = access.Id,
            ["patient_id"] = access.PatientId,
            ["full_name"] = access.Patient.FullName,
            ["access_key"] = access.AccessKey,
        };
        if (password is not null) json["password"] = password;
        json["is_active"] = access.IsActive;
        json["status"] = !access.IsActive ? "inactive" : locked ? "locked" : "active";
        json["deactivation_reason"] = access.IsActive ? null : access.DeactivationReason ?? DeactivationReasons.Other;
        json["access_count"] = access.AccessCount;
        json["last_access"] = access.LastAccess;
        json["failed_attempts"] = failures;
        json["created_at"] = access.CreatedAt;
        return Results.Json(json);
    }

    private static async Task<IResult> UpdateAsync(int id, HttpRequest request, CimefDb db, AccessProvisioning provisioning, CancellationToken ct)
    {
        var (body, error) = await ApiJson.ReadAsync<UpdateBody>(request);
        if (error is not null) return error;
        if (body!.IsActive is null && body.Regenerate is not true)
            return ApiJson.Error("Indiquez « is_active » (true/false) ou « regenerate »: true.");
        var reason = body.DeactivationReason?.Trim().ToLowerInvariant() ?? DeactivationReasons.Other;
        if (!DeactivationReasons.All.Contains(reason))
            return ApiJson.Errors(new() { ["deactivation_reason"] = [$"Motif de désactivation inconnu. Valeurs possibles : {string.Join(", ", DeactivationReasons.All)}."] });
        var access = await db.PatientAccesses.Include(a => a.Patient).SingleOrDefaultAsync(a => a.Id == id, ct);
        if (access is null) return ApiJson.NotFound("Accès introuvable.");
        var user = request.HttpContext.User;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var regenerated = false;
        // Reactivating a compromised access issues new credentials (and says so: "regenerated": true).
        if (body.IsActive is true && !access.IsActive)
            regenerated = await provisioning.ActivateAsync(access, body.Regenerate is true, user, ct);
        else if (body.IsActive is false)
            await provisioning.DeactivateAsync(access, user, reason, ct);
        if (body.Regenerate is true && !regenerated)
        {
            await provisioning.RegenerateAsync(access, user, ct);
            regenerated = true;
        }
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return Results.Json(new
        {
            id = access.Id,
            access_key = access.AccessKey,
            is_active = access.IsActive,
            deactivation_reason = access.IsActive ? null : access.DeactivationReason ?? DeactivationReasons.Other,
            regenerated,
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
        deactivation_reason = r.IsActive ? null : r.DeactivationReason ?? DeactivationReasons.Other,
        access_count = r.AccessCount,
        last_access = r.LastAccess,
        failed_attempts = r.FailedAttempts,
        created = r.CreatedAt,
    };
}
