using System.Globalization;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Cimef.Site.Api;
using Htmx;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Portal;

/// <summary>The "Patient" authentication scheme: reads the session cookie; challenges answer each caller in its own way.</summary>
public sealed class PatientSessionHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, PatientSessions sessions)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string LoginPath = PatientRoutes.Login;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var token = Request.Cookies[PatientSessions.CookieName];
        if (string.IsNullOrEmpty(token)) return AuthenticateResult.NoResult();
        var reads = Context.GetEndpoint()?.Metadata.GetMetadata<ReadsPatientReportsAttribute>()?.Reads ?? PatientReads.Session;
        var validated = await sessions.ValidateAsync(token, reads, Context.RequestAborted);
        if (validated is not { Session: var session, Dashboard: var dashboard }) return AuthenticateResult.Fail("Session expirée ou inconnue.");
        if (dashboard is not null) Context.Features.Set(dashboard);
        return AuthenticateResult.Success(new AuthenticationTicket(Principal(session), Scheme.Name));
    }

    /// <summary>
    /// The patient a valid session stands for. Also what a page that has just started a session renders its forms for,
    /// so their antiforgery tokens match the signed-in requests that will post them.
    /// </summary>
    public static ClaimsPrincipal Principal(PatientSessions.Session session) => new(new ClaimsIdentity(
    [
        new Claim(PatientSessions.SessionIdClaim, session.SessionId.ToString(CultureInfo.InvariantCulture)),
        new Claim(PatientSessions.AccessIdClaim, session.AccessId.ToString(CultureInfo.InvariantCulture)),
        new Claim(PatientSessions.PatientIdClaim, session.PatientId.ToString(CultureInfo.InvariantCulture)),
    ], Web.AuthSchemes.Patient));

    /// <summary>APIs: 401 {"error"}; htmx: HX-Redirect to the login page; browsers: a redirect to it.</summary>
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.CacheControl = "no-store";
        if (Request.IsApi())
        {
            await ApiJson.Error(PatientMessages.SessionRequired, StatusCodes.Status401Unauthorized).ExecuteAsync(Context);
            return;
        }
        if (Request.IsHtmx())
        {
            Response.StatusCode = StatusCodes.Status200OK;
            Response.Headers["HX-Redirect"] = LoginPath;
            return;
        }
        Response.Redirect(LoginPath);
    }
}
