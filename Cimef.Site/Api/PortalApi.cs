using System.Text.Json;
using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Web;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Cimef.Site.Portal;

namespace Cimef.Site.Api;

/// <summary>
/// The spec's patient JSON API (snake_case, cookie session, errors as {"error"}). POSTs require a JSON
/// content type: with the SameSite=Strict cookie that is what keeps cross-site forms out (DESIGN §4.5).
/// </summary>
public static class PortalApi
{
    public sealed record LoginRequest(string? AccessKey, string? Password);

    public sealed record PatientJson(int Id, string FullName, string Phone);

    public sealed record AccessInfoJson(bool IsPermanent, int AccessCount, DateTime? LastAccess);

    private const int MaxBodyBytes = 4096;

    public static void MapPortalApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/patients/portal/login/", LoginAsync).AllowAnonymous().RequireRateLimiting(RateLimits.PatientLogin).ForPatients();
        app.MapRecoveryApi();

        var session = app.MapGroup("").RequireAuthorization(Policies.Patient).ForPatients();
        session.MapGet("/api/patients/portal/profile/", ProfileAsync);
        session.MapPost("/api/patients/portal/logout/", LogoutAsync);
    }


    private static async Task<IResult> LoginAsync(HttpContext http, PatientSignIn signIn, IOptions<ClinicOptions> clinic)
    {
        http.Response.Headers.CacheControl = "no-store";
        if (!http.Request.HasJsonContentType()) return ApiJson.NotJson();
        if (http.Request.ContentLength > MaxBodyBytes) return ApiJson.Error(PatientMessages.BadRequest, StatusCodes.Status400BadRequest);
        LoginRequest? body;
        try
        {
            using var limited = new MemoryStream();
            var buffer = new byte[1024];
            int read;
            while ((read = await http.Request.Body.ReadAsync(buffer, http.RequestAborted)) > 0)
            {
                if (limited.Length + read > MaxBodyBytes) return ApiJson.Error(PatientMessages.BadRequest, StatusCodes.Status400BadRequest);
                limited.Write(buffer, 0, read);
            }
            body = JsonSerializer.Deserialize<LoginRequest>(limited.ToArray(), http.RequestServices
                .GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions);
        }
        catch (JsonException)
        {
            return ApiJson.Error(PatientMessages.BadRequest, StatusCodes.Status400BadRequest);
        }
        if (body is null || string.IsNullOrWhiteSpace(body.AccessKey) || string.IsNullOrWhiteSpace(body.Password)
            || body.AccessKey.Length > 40 || body.Password.Length > 64)
            return ApiJson.Error(PatientMessages.BadRequest, StatusCodes.Status400BadRequest);

        var result = await signIn.SignInAsync(http, body.AccessKey, body.Password, remember: false, http.RequestAborted);
        switch (result.Outcome)
        {
            case PatientSignIn.Outcome.Success:
                PatientSessions.WriteCookie(http.Response, result.SessionToken!);
                var a = result.Access!;
                return Results.Json(new
                {
                    success = true,
                    message = PatientMessages.LoginSuccess,
                    patient = new PatientJson(a.Patient.Id, a.Patient.FullName, a.Patient.Phone),
                    access_info = new AccessInfoJson(true, a.AccessCount, a.LastAccess),
                });
            case PatientSignIn.Outcome.Throttled:
                http.Response.Headers.RetryAfter = result.RetryAfterSeconds.ToString();
                return ApiJson.Throttled(result.RetryAfterSeconds);
            case PatientSignIn.Outcome.Disabled:
                return ApiJson.Error(PatientMessages.AccessDisabled(clinic.Value.Phone), StatusCodes.Status401Unauthorized);
            default:
                return ApiJson.Error(PatientMessages.InvalidCredentials, StatusCodes.Status401Unauthorized);
        }
    }

    private static async Task<IResult> ProfileAsync(HttpContext http, CimefDb db)
    {
        http.Response.Headers.CacheControl = "no-store";
        var accessId = http.User.AccessId();
        var a = await db.PatientAccesses.AsNoTracking().Include(x => x.Patient).SingleAsync(x => x.Id == accessId, http.RequestAborted);
        return Results.Json(new
        {
            patient = new PatientJson(a.Patient.Id, a.Patient.FullName, a.Patient.Phone),
            access_info = new AccessInfoJson(true, a.AccessCount, a.LastAccess),
        });
    }

    private static async Task<IResult> LogoutAsync(HttpContext http, PatientSessions sessions)
    {
        if (!http.Request.HasJsonContentType()) return ApiJson.NotJson();
        await sessions.LogoutAsync(http);
        return Results.Json(new { success = true });
    }
}
