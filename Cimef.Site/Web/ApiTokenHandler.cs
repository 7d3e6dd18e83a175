using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Web;

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
