using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Cimef.Site.Api;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Htmx;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Web;

public static class AuthSchemes
{
    public const string Staff = "Identity.Application"; // IdentityConstants.ApplicationScheme
    public const string ApiToken = "ApiToken";
    public const string Patient = "Patient";
    /// <summary>Staff pages and staff APIs accept either the staff cookie or a Bearer token.</summary>
    public const string StaffOrToken = Staff + "," + ApiToken;
}

/// <summary>Authorization policies, by use case. Admin passes every staff policy.</summary>
public static class Policies
{
    public const string Staff = "staff";
    public const string Admin = "admin";
    public const string FrontDesk = "front-desk";       // Secretary, Admin
    public const string Billing = "billing";            // Secretary, Accountant, Admin
    public const string Payments = "payments";          // Accountant, Admin
    public const string Reports = "reports";            // Doctor, Admin
    public const string AccessManagement = "access";    // Secretary, Admin
    /// <summary>Handing over patient credentials (reveal, invoice PDF with the password, API): Access:CredentialRoles.</summary>
    public const string Credentials = "credentials";

    public static void Add(Microsoft.AspNetCore.Authorization.AuthorizationOptions o)
    {
        void Policy(string name, params string[] roles) => o.AddPolicy(name, p =>
        {
            p.AddAuthenticationSchemes(AuthSchemes.Staff, AuthSchemes.ApiToken);
            p.RequireAuthenticatedUser();
            if (roles.Length > 0) p.RequireRole(roles);
        });
        Policy(Staff);
        Policy(Admin, Roles.Admin);
        Policy(FrontDesk, Roles.Admin, Roles.Secretary);
        Policy(Billing, Roles.Admin, Roles.Secretary, Roles.Accountant);
        Policy(Payments, Roles.Admin, Roles.Accountant);
        Policy(Reports, Roles.Admin, Roles.Doctor);
        Policy(AccessManagement, Roles.Admin, Roles.Secretary);
    }

    /// <summary>The credentials policy comes from configuration; an empty role list means nobody sees a password.</summary>
    public static void AddCredentials(Microsoft.AspNetCore.Authorization.AuthorizationOptions o, AccessOptions access) => o.AddPolicy(Credentials, p =>
    {
        p.AddAuthenticationSchemes(AuthSchemes.Staff, AuthSchemes.ApiToken);
        p.RequireAuthenticatedUser();
        var roles = access.CredentialRoles.Where(r => !string.IsNullOrWhiteSpace(r)).Select(r => r.Trim()).ToArray();
        if (roles.Length > 0) p.RequireRole(roles);
        else p.RequireAssertion(_ => false);
    });
}

/// <summary>Cookie redirects that fit each caller: htmx gets HX-Redirect, APIs get a bare 401/403.</summary>
public static class AuthRedirects
{
    public static Task Redirect(HttpContext http, string location, int apiStatus)
    {
        if (http.Request.IsApi())
        {
            http.Response.StatusCode = apiStatus;
            return Task.CompletedTask;
        }
        if (http.Request.IsHtmx())
        {
            http.Response.StatusCode = StatusCodes.Status200OK;
            http.Response.Headers["HX-Redirect"] = location;
            return Task.CompletedTask;
        }
        http.Response.Redirect(location);
        return Task.CompletedTask;
    }
}

/// <summary>French messages for Identity validation errors shown to staff.</summary>
public sealed class FrenchIdentityErrors : IdentityErrorDescriber
{
    public override IdentityError PasswordTooShort(int length) => new() { Code = nameof(PasswordTooShort), Description = $"Le mot de passe doit contenir au moins {length} caractères." };
    public override IdentityError PasswordRequiresDigit() => new() { Code = nameof(PasswordRequiresDigit), Description = "Le mot de passe doit contenir au moins un chiffre." };
    public override IdentityError PasswordRequiresLower() => new() { Code = nameof(PasswordRequiresLower), Description = "Le mot de passe doit contenir au moins une lettre minuscule." };
    public override IdentityError PasswordRequiresUpper() => new() { Code = nameof(PasswordRequiresUpper), Description = "Le mot de passe doit contenir au moins une lettre majuscule." };
    public override IdentityError PasswordRequiresNonAlphanumeric() => new() { Code = nameof(PasswordRequiresNonAlphanumeric), Description = "Le mot de passe doit contenir au moins un caractère spécial." };
    public override IdentityError PasswordRequiresUniqueChars(int uniqueChars) => new() { Code = nameof(PasswordRequiresUniqueChars), Description = $"Le mot de passe doit contenir au moins {uniqueChars} caractères différents." };
    public override IdentityError DuplicateEmail(string email) => new() { Code = nameof(DuplicateEmail), Description = $"L'adresse {email} est déjà utilisée." };
    public override IdentityError DuplicateUserName(string userName) => new() { Code = nameof(DuplicateUserName), Description = $"L'identifiant {userName} est déjà utilisé." };
    public override IdentityError InvalidEmail(string? email) => new() { Code = nameof(InvalidEmail), Description = $"L'adresse e-mail « {email} » n'est pas valide." };
    public override IdentityError InvalidUserName(string? userName) => new() { Code = nameof(InvalidUserName), Description = $"L'identifiant « {userName} » n'est pas valide." };
    public override IdentityError InvalidRoleName(string? role) => new() { Code = nameof(InvalidRoleName), Description = $"Le rôle « {role} » n'existe pas." };
    public override IdentityError UserAlreadyInRole(string role) => new() { Code = nameof(UserAlreadyInRole), Description = $"Ce compte a déjà le rôle {Roles.French(role)}." };
    public override IdentityError DefaultError() => new() { Code = nameof(DefaultError), Description = "Une erreur est survenue." };
}

/// <summary>
/// "Authorization: Bearer &lt;token&gt;" for integrations: the token's SHA-256 is looked up; the principal
/// carries the owning staff member's name and roles. A revoked or expired token, or a disabled staff account's, is a 401.
/// </summary>
public sealed class ApiTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    CimefDb db, UserManager<StaffUser> users, TimeProvider time)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string Prefix = "cimef_";

    public static string HashToken(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    public static string NewToken() => Prefix + Base64UrlEncoded(RandomNumberGenerator.GetBytes(32));

    private static string Base64UrlEncoded(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    // Only answer a challenge when a Bearer token was sent; otherwise the staff cookie redirects to sign-in.
    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        HasBearer() ? base.HandleChallengeAsync(properties) : Task.CompletedTask;

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        HasBearer() ? base.HandleForbiddenAsync(properties) : Task.CompletedTask;

    private bool HasBearer() => Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase);

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return AuthenticateResult.NoResult();
        var token = header["Bearer ".Length..].Trim();
        if (token.Length is < 10 or > 200) return AuthenticateResult.Fail("Jeton invalide.");
        var hash = HashToken(token);
        var now = time.GetUtcNow().UtcDateTime;
        var row = await db.ApiTokens.Include(t => t.User).SingleOrDefaultAsync(t => t.TokenHash == hash && t.RevokedAt == null && t.ExpiresAt > now);
        if (row is null || row.User.IsDisabled) return AuthenticateResult.Fail("Jeton invalide, expiré ou révoqué.");

        // Last use is for the admin's token list: at most one write a minute per token, not one per request.
        if (row.LastUsedAt is null || now - row.LastUsedAt >= TimeSpan.FromMinutes(1))
            await db.ApiTokens.Where(t => t.Id == row.Id).ExecuteUpdateAsync(u => u.SetProperty(t => t.LastUsedAt, now));

        var claims = new List<Claim>
        {
            new(ClaimTypes.NameIdentifier, row.UserId),
            new(ClaimTypes.Name, row.User.UserName ?? row.User.Email ?? row.UserId),
        };
        foreach (var role in await users.GetRolesAsync(row.User)) claims.Add(new Claim(ClaimTypes.Role, role));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, Scheme.Name));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name));
    }
}
