// The numeric replies this gateway sends (RFC 1459/2812, with the modern additions listed in
// the IRCv3 and "Modern IRC" documents), named as the RFCs name them.
#pragma once

namespace lattice::irc::numeric {

inline constexpr int kRplWelcome = 1;
inline constexpr int kRplYourHost = 2;
inline constexpr int kRplCreated = 3;
inline constexpr int kRplMyInfo = 4;
inline constexpr int kRplIsupport = 5;
inline constexpr int kRplUmodeIs = 221;
inline constexpr int kRplLuserClient = 251;
inline constexpr int kRplLuserUnknown = 253;
inline constexpr int kRplLuserChannels = 254;
inline constexpr int kRplLuserMe = 255;
inline constexpr int kRplLocalUsers = 265;
inline constexpr int kRplGlobalUsers = 266;
inline constexpr int kRplAway = 301;
inline constexpr int kRplUserhost = 302;
inline constexpr int kRplIson = 303;
inline constexpr int kRplUnaway = 305;
inline constexpr int kRplNowAway = 306;
inline constexpr int kRplWhoisUser = 311;
inline constexpr int kRplWhoisServer = 312;
inline constexpr int kRplEndOfWho = 315;
inline constexpr int kRplWhoisIdle = 317;
inline constexpr int kRplEndOfWhois = 318;
inline constexpr int kRplWhoisChannels = 319;
inline constexpr int kRplListStart = 321;
inline constexpr int kRplList = 322;
inline constexpr int kRplListEnd = 323;
inline constexpr int kRplChannelModeIs = 324;
inline constexpr int kRplCreationTime = 329;
inline constexpr int kRplNoTopic = 331;
inline constexpr int kRplTopic = 332;
inline constexpr int kRplTopicWhoTime = 333;
inline constexpr int kRplInviteList = 336;
inline constexpr int kRplEndOfInviteList = 337;
inline constexpr int kRplInviting = 341;
inline constexpr int kRplVersion = 351;
inline constexpr int kRplWhoReply = 352;
inline constexpr int kRplNamReply = 353;
inline constexpr int kRplEndOfNames = 366;
inline constexpr int kRplBanList = 367;
inline constexpr int kRplEndOfBanList = 368;
inline constexpr int kRplMotd = 372;
inline constexpr int kRplMotdStart = 375;
inline constexpr int kRplEndOfMotd = 376;
inline constexpr int kRplTime = 391;

inline constexpr int kErrUnknownError = 400;
inline constexpr int kErrNoSuchNick = 401;
inline constexpr int kErrNoSuchChannel = 403;
inline constexpr int kErrCannotSendToChan = 404;
inline constexpr int kErrTooManyChannels = 405;
inline constexpr int kErrTooManyTargets = 407;
inline constexpr int kErrNoOrigin = 409;
inline constexpr int kErrInvalidCapCmd = 410;
inline constexpr int kErrNoRecipient = 411;
inline constexpr int kErrNoTextToSend = 412;
inline constexpr int kErrInputTooLong = 417;
inline constexpr int kErrUnknownCommand = 421;
inline constexpr int kErrNoMotd = 422;
inline constexpr int kErrNoNicknameGiven = 431;
inline constexpr int kErrErroneusNickname = 432;
inline constexpr int kErrNicknameInUse = 433;
inline constexpr int kErrUserNotInChannel = 441;
inline constexpr int kErrNotOnChannel = 442;
inline constexpr int kErrUserOnChannel = 443;
inline constexpr int kErrNotRegistered = 451;
inline constexpr int kErrNeedMoreParams = 461;
inline constexpr int kErrAlreadyRegistered = 462;
inline constexpr int kErrPasswdMismatch = 464;
inline constexpr int kErrChannelIsFull = 471;
inline constexpr int kErrUnknownMode = 472;
inline constexpr int kErrInviteOnlyChan = 473;
inline constexpr int kErrBannedFromChan = 474;
inline constexpr int kErrBadChannelKey = 475;
inline constexpr int kErrBanListFull = 478;
inline constexpr int kErrChanOPrivsNeeded = 482;
inline constexpr int kErrUmodeUnknownFlag = 501;
inline constexpr int kErrUsersDontMatch = 502;
inline constexpr int kErrInvalidModeParam = 696;
// MONITOR (IRCv3).
inline constexpr int kRplMonOnline = 730;
inline constexpr int kRplMonOffline = 731;
inline constexpr int kRplMonList = 732;
inline constexpr int kRplEndOfMonList = 733;
inline constexpr int kErrMonListFull = 734;

}  // namespace lattice::irc::numeric
