using Cimef.Site.Languages;
using Cimef.Site.Web;
using Microsoft.Extensions.Options;
using Cimef.Site.Portal;

namespace Cimef.Site.Api;

/// <summary>
/// « Clé ou mot de passe perdu ? » for apps (<see cref="PatientRecovery"/>): ask for a code, check it, renew one access's
/// password. Anonymous, JSON only, under the patient login's per-address limit (cluster-wide on PostgreSQL); errors as
/// {"error"} in French. The first answer is the same 202 whether the address is registered or not.
/// </summary>
public static class RecoveryApi
{
    public sealed record RecoverRequest(string? Phone, string? Email);

    public sealed record VerifyRequest(string? Phone, string? Email, string? Code);

    public sealed record ResetRequest(string? RecoveryToken, int? AccessId);

    public sealed record AccessJson(int Id, string Label, bool Recoverable);

    public static void MapRecoveryApi(this IEndpointRouteBuilder app)
    {
        var recover = app.MapGroup("/api/patients/portal/recover").AllowAnonymous().RequireRateLimiting(RateLimits.PatientLogin).ForPatients();
        recover.MapPost("/", RequestAsync);
        recover.MapPost("/verify/", VerifyAsync);
        recover.MapPost("/reset/", ResetAsync);
    }

    private static async Task<IResult> RequestAsync(HttpContext http, PatientRecovery recovery)
    {
        http.Response.Headers.CacheControl = "no-store";
        var (body, error) = await ApiJson.ReadAsync<RecoverRequest>(http.Request);
        if (error is not null) return error;
        if (Contact(body!.Phone, body.Email) is not { } contact) return ApiJson.Error(PatientText.Get("recover_contact_invalid"));
        var (outcome, retryAfter) = await recovery.RequestAsync(contact, http.RequestAborted);
        if (outcome == PatientRecovery.RequestOutcome.TooMany) return TooMany(http, retryAfter);
        return Results.Json(new { message = PatientText.Get(contact.IsEmail ? "recover_sent_email" : "recover_sent") }, statusCode: StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> VerifyAsync(HttpContext http, PatientRecovery recovery)
    {
        http.Response.Headers.CacheControl = "no-store";
        var (body, error) = await ApiJson.ReadAsync<VerifyRequest>(http.Request);
        if (error is not null) return error;
        if (Contact(body!.Phone, body.Email) is not { } contact) return ApiJson.Error(PatientText.Get("recover_contact_invalid"));
        var verified = await recovery.VerifyAsync(contact, body.Code?.Trim(), http.RequestAborted);
        if (verified is not { } v) return ApiJson.Error(PatientText.Get("recover_code_wrong"));
        return Results.Json(new
        {
            recovery_token = v.Token,
            accesses = v.Choices.Select(c => new AccessJson(c.AccessId, c.Label, c.Recoverable)),
        });
    }

    private static async Task<IResult> ResetAsync(HttpContext http, PatientRecovery recovery, IOptions<ClinicOptions> clinic)
    {
        http.Response.Headers.CacheControl = "no-store";
        var (body, error) = await ApiJson.ReadAsync<ResetRequest>(http.Request);
        if (error is not null) return error;
        if (body!.AccessId is not int accessId || string.IsNullOrEmpty(body.RecoveryToken) || body.RecoveryToken.Length > 100)
            return ApiJson.Error(PatientText.Get("recover_expired"));
        var result = await recovery.ResetAsync(http, body.RecoveryToken, accessId, http.RequestAborted);
        switch (result.Outcome)
        {
            case PatientRecovery.ResetOutcome.Ok:
                if (result.SessionToken is not null) PatientSessions.WriteCookie(http.Response, result.SessionToken);
                return Results.Json(new { access_key = result.AccessKey, password = result.Password });
            case PatientRecovery.ResetOutcome.NotListed:
                return ApiJson.NotFound(PatientText.Get("recover_not_listed"));
            case PatientRecovery.ResetOutcome.Closed:
                return ApiJson.Error(PatientMessages.AccessDisabled(clinic.Value.Phone), StatusCodes.Status403Forbidden);
            default:
                return ApiJson.Error(PatientText.Get("recover_expired"));
        }
    }

    /// <summary>The address in the body: a phone number, else an e-mail address; null (400) when neither is usable.</summary>
    private static PatientRecovery.Contact? Contact(string? phone, string? email) =>
        phone is { Length: > 40 } || email is { Length: > 254 } ? null : PatientRecovery.ParseContact(phone, email);

    private static IResult TooMany(HttpContext http, int retryAfter)
    {
        http.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Results.Json(new { error = PatientText.Get("recover_too_many"), retry_after = retryAfter }, statusCode: StatusCodes.Status429TooManyRequests);
    }
}
