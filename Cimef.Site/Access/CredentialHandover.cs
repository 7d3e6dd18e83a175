using System.Security.Claims;
using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Authorization;

namespace Cimef.Site.Access;

/// <summary>
/// The one check before a patient's password leaves the server (Access page, invoice PDF, API): the caller must
/// pass <see cref="Policies.Credentials"/> (Access:CredentialRoles), and every handover adds an access.reveal
/// audit row — who, which patient, which invoice, which channel, never the password — to the caller's unit of
/// work. Without it a loop over invoice PDFs would silently yield every patient's password; now it yields only
/// keys to those without the permission, and an audited trail (and the credential_reveals alert) to those with it.
/// </summary>
public sealed class CredentialHandover(CimefDb db, AccessProvisioning provisioning, IAuthorizationService authz, TimeProvider time)
{
    public const string RevealAction = "access.reveal";
    public const string PageChannel = "page";
    public const string ApiChannel = "api";

    public async Task<bool> AllowedAsync(ClaimsPrincipal user) => (await authz.AuthorizeAsync(user, Policies.Credentials)).Succeeded;

    /// <summary>The password if <paramref name="user"/> may have it (audit row added, saved by the caller), else null.</summary>
    public async Task<string?> RevealAsync(ClaimsPrincipal user, PatientAccess access, string channel, Invoice? invoice = null)
    {
        if (!await AllowedAsync(user)) return null;
        var detail = $"patient {access.PatientId}{(invoice is null ? "" : $", facture {invoice.Number}")}, canal {channel}";
        Audit.Staff(db, user, time.GetUtcNow().UtcDateTime, RevealAction, "PatientAccess", access.Id, detail).Handover =
            invoice is not null ? CredentialHandoverKind.Printed : channel == PageChannel ? CredentialHandoverKind.Shown : CredentialHandoverKind.Handed;
        return provisioning.RevealPassword(access);
    }
}
